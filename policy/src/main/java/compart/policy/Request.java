package compart.policy;

import java.util.Objects;

/**
 * A qrexec call to decide, as the qrexec daemon passes it.
 *
 * @param service         the service name (no {@code +})
 * @param argument        the argument with its leading {@code +} ({@code "+"} when empty)
 * @param source          the calling qube
 * @param target          the target the caller asked for (a name, {@code @default}, {@code @dispvm} ...);
 *                        empty means {@code @default}
 * @param requestedSource for calls a RemoteVM's relay qube forwards: the RemoteVM, else null
 */
public record Request(String service, String argument, String source, String target, String requestedSource) {
    public Request {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(argument, "argument");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        if (!argument.startsWith("+")) {
            throw new IllegalArgumentException("argument must start with +: " + argument);
        }
        if (requestedSource != null && requestedSource.isEmpty()) requestedSource = null;
    }

    /** A request without a requested source. */
    public Request(String service, String argument, String source, String target) {
        this(service, argument, source, target, null);
    }

    /**
     * Splits {@code SERVICE[+ARGUMENT]} the way qrexec does: at the first {@code +}; no {@code +} means an
     * empty argument.
     */
    public static Request of(String serviceAndArgument, String source, String target) {
        int plus = serviceAndArgument.indexOf('+');
        return plus < 0
                ? new Request(serviceAndArgument, "+", source, target)
                : new Request(serviceAndArgument.substring(0, plus), serviceAndArgument.substring(plus), source,
                        target);
    }
}
