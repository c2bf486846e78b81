package compart.errors;

import java.util.Objects;
import java.util.Optional;

/**
 * The one unchecked exception of Compart: a {@link ErrorKind} and a message written for the user, which says
 * what failed, for which object, and what to do about it.
 *
 * <p>Expected outcomes (a policy decision, lint diagnostics) are values, not exceptions; this type is for
 * operations that could not be done. Instances are immutable and safe to share between threads.
 */
public final class CompartException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorKind kind;
    private final Refusal refusal;

    /**
     * @param kind    what kind of failure this is; never null
     * @param message the user-facing message; never null or blank
     */
    public CompartException(ErrorKind kind, String message) {
        this(kind, message, null);
    }

    /**
     * @param kind    what kind of failure this is; never null
     * @param message the user-facing message; never null or blank
     * @param cause   the underlying failure, or null
     */
    public CompartException(ErrorKind kind, String message, Throwable cause) {
        super(requireMessage(message), cause);
        this.kind = Objects.requireNonNull(kind, "kind");
        this.refusal = null;
    }

    /** An expected refusal ({@link Refusal#exception}): the kind is the reason's, {@link #refusal()} names it. */
    private CompartException(String message, Refusal refusal) {
        super(requireMessage(message), null);
        this.refusal = Objects.requireNonNull(refusal, "refusal");
        this.kind = refusal.kind();
    }

    static CompartException refused(Refusal refusal, String message) {
        return new CompartException(message, refusal);
    }

    /** @return what kind of failure this is */
    public ErrorKind kind() {
        return kind;
    }

    /**
     * @return why the operation was refused, when it was an expected refusal: this exception's own reason, else that
     *         of the CompartException it wraps (a failed step of a plan wraps the step's failure)
     */
    public Optional<Refusal> refusal() {
        for (Throwable t = this; t instanceof CompartException ce; t = ce.getCause()) {
            if (ce.refusal != null) {
                return Optional.of(ce.refusal);
            }
        }
        return Optional.empty();
    }

    /** Shorthand for {@code new CompartException(ErrorKind.NOT_FOUND, String.format(format, args))}. */
    public static CompartException notFound(String format, Object... args) {
        return new CompartException(ErrorKind.NOT_FOUND, String.format(format, args));
    }

    /** Shorthand for {@code new CompartException(ErrorKind.INVALID_VALUE, String.format(format, args))}. */
    public static CompartException invalidValue(String format, Object... args) {
        return new CompartException(ErrorKind.INVALID_VALUE, String.format(format, args));
    }

    /** Shorthand for {@code new CompartException(ErrorKind.INVALID_STATE, String.format(format, args))}. */
    public static CompartException invalidState(String format, Object... args) {
        return new CompartException(ErrorKind.INVALID_STATE, String.format(format, args));
    }

    @Override
    public String toString() {
        return "CompartException[" + kind + "]: " + getMessage();
    }

    private static String requireMessage(String message) {
        if (message == null || message.isBlank()) {
            throw new IllegalArgumentException("a CompartException needs a message for the user");
        }
        return message;
    }
}
