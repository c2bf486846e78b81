package compart.core.qrexec;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * A qrexec service that qubes call in dom0 ({@code qrexec-client-vm dom0 SERVICE}), run by compartd when the policy
 * allows the call with target dom0. The toolstack adds the ones that change qubes ({@code qubes.FeaturesRequest},
 * {@code qubes.NotifyUpdates}) with {@link QrexecRouter#dom0Service}; {@link #builtIn()} are those that need
 * nothing but dom0. Implementations are thread-safe: calls of different qubes run at once.
 */
public interface Dom0Service {
    /** The most stdin a dom0 service reads from a qube. */
    int MAX_INPUT = 65536;

    /** @return the service name without argument, e.g. {@code qubes.GetDate} */
    String name();

    /** @return whether the service reads the caller's stdin (to its end) before it runs */
    boolean readsStdin();

    /**
     * Runs the service for {@code caller}.
     *
     * @param argument      the {@code +argument}, empty when none
     * @param untrustedStdin what the caller sent, at most {@link #MAX_INPUT} bytes; empty unless {@link #readsStdin}
     * @return exit code and output sent back to the caller
     */
    QrexecRouter.Result run(String caller, String argument, byte[] untrustedStdin);

    /** @return the services every dom0 has: {@code qubes.GetDate} on the system clock */
    static List<Dom0Service> builtIn() {
        return List.of(date(Clock.systemUTC()));
    }

    /**
     * {@code qubes.GetDate}: dom0's UTC time as Qubes prints it when dom0 is the clock qube, {@code date -u
     * -Iseconds} ({@code 2026-12-07T17:30:00+00:00}), or with any argument {@code date -u -Ins} (nanoseconds,
     * comma before the fraction).
     */
    static Dom0Service date(Clock clock) {
        return of("qubes.GetDate", false, (caller, argument, untrustedStdin) -> {
            var now = clock.instant().atOffset(ZoneOffset.UTC);
            String pattern = argument.isEmpty() ? "yyyy-MM-dd'T'HH:mm:ssxxx" : "yyyy-MM-dd'T'HH:mm:ss,nnnnnnnnnxxx";
            String text = (argument.isEmpty() ? now.truncatedTo(ChronoUnit.SECONDS) : now)
                    .format(DateTimeFormatter.ofPattern(pattern));
            return new QrexecRouter.Result(0, (text + "\n").getBytes(StandardCharsets.US_ASCII), new byte[0]);
        });
    }

    /** What a service does with one call: see {@link Dom0Service#run}. */
    @FunctionalInterface
    interface Body {
        QrexecRouter.Result run(String caller, String argument, byte[] untrustedStdin);
    }

    /** @return the service {@code name} that runs {@code body} */
    static Dom0Service of(String name, boolean readsStdin, Body body) {
        record Named(String name, boolean readsStdin, Body body) implements Dom0Service {
            @Override
            public QrexecRouter.Result run(String caller, String argument, byte[] untrustedStdin) {
                return body.run(caller, argument, untrustedStdin);
            }
        }
        return new Named(name, readsStdin, body);
    }
}
