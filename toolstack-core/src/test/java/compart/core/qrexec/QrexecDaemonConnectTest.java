package compart.core.qrexec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Waiting for a qube's agent ends when the agent answers, when {@code qrexec_timeout} passes, or as soon as the
 * domain is gone: a guest that powers off during its boot must not hold its start for the whole timeout. (No
 * agent publishes a vchan on this machine, so every try fails as on a guest whose agent has not started yet.)
 */
class QrexecDaemonConnectTest {
    @Test
    void aDomainThatDies_endsTheWaitAtOnce_sayingSo_notAfterTheTimeout() {
        var checks = new AtomicInteger();

        var e = catchThrowableOfType(CompartException.class, () -> QrexecDaemon.connect("sys-net", 4095,
                Duration.ofMinutes(5), () -> checks.incrementAndGet() < 3, (d, c) -> false));

        assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_STATE);
        assertThat(e.getMessage()).contains("sys-net (domain 4095) died before its qrexec agent answered")
                .contains("/var/log/xen/console/guest-sys-net.log");
        assertThat(checks.get()).as("liveness checks: it stopped at the first 'gone'").isEqualTo(3);
    }

    @Test
    void aLiveDomainWithoutAgent_timesOut() {
        var e = catchThrowableOfType(CompartException.class, () -> QrexecDaemon.connect("work", 4095,
                Duration.ofMillis(600), () -> true, (d, c) -> false));

        assertThat(e.kind()).isEqualTo(ErrorKind.TIMEOUT);
        assertThat(e.getMessage()).contains("no agent in work (domain 4095)");
    }
}
