package compart.core.model;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.util.Optional;

/**
 * Why an operation was refused, when the {@link ErrorKind} alone does not say enough for a client to react (Qubes'
 * client raises a different exception for "not enough memory" than for "no template", both INVALID_STATE). The
 * reason travels as a typed tag in the exception's cause, so the Admin API maps it without reading messages.
 */
public enum Refusal {
    /** The host has not enough free memory to start the qube. */
    NOT_ENOUGH_MEMORY(ErrorKind.INVALID_STATE),
    /** The qube's template does not exist. */
    NO_TEMPLATE(ErrorKind.INVALID_STATE),
    /** The qube is not running (shutdown or kill of a halted qube). */
    NOT_RUNNING(ErrorKind.INVALID_STATE),
    /** The qube must be halted for this. */
    NOT_HALTED(ErrorKind.INVALID_STATE),
    /** The named label does not exist. */
    NO_SUCH_LABEL(ErrorKind.NOT_FOUND),
    /** A disposable was asked of a qube that is not a disposable template, or of none. */
    NOT_DISPVM_TEMPLATE(ErrorKind.INVALID_STATE),
    /** A variant of a method Qubes has that Compart does not implement (e.g. preloaded disposables). */
    NOT_IMPLEMENTED(ErrorKind.INVALID_STATE);

    private final ErrorKind kind;

    Refusal(ErrorKind kind) {
        this.kind = kind;
    }

    /** @return the kind of the exceptions carrying this reason */
    public ErrorKind kind() {
        return kind;
    }

    /** @return an exception of this reason's kind, with the formatted message and this reason attached */
    public CompartException exception(String format, Object... args) {
        return new CompartException(kind, String.format(format, args), new Tag(this));
    }

    /** @return the reason attached to {@code e} or to the CompartException it wraps (a failed plan step), if any */
    public static Optional<Refusal> of(CompartException e) {
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof Tag tag) {
                return Optional.of(tag.refusal);
            }
            if (!(t instanceof CompartException)) {
                break;
            }
        }
        return Optional.empty();
    }

    /** The tag in the cause slot: no stack trace, no message of its own. */
    private static final class Tag extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient Refusal refusal;

        Tag(Refusal refusal) {
            super(refusal.name(), null, false, false);
            this.refusal = refusal;
        }
    }
}
