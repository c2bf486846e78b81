package compart.errors;

/**
 * Why an operation was refused, when the {@link ErrorKind} alone does not say enough for a client to react (Qubes'
 * client raises a different exception for "not enough memory" than for "no template", both INVALID_STATE). A
 * {@link CompartException} made by {@link #exception} carries its reason in {@link CompartException#refusal()}, so the
 * Admin API maps it without reading messages.
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
    /**
     * A value refused by the coarse, type-level check before any rule saw it (a malformed name, number or boolean,
     * characters outside the allowed set): Qubes raises the parent class (QubesValueError) for these, where a
     * property's own rule raises QubesPropertyValueError.
     */
    MALFORMED_VALUE(ErrorKind.INVALID_VALUE),
    /** A {@code uuid:} destination that is not a well-formed UUID. */
    INVALID_UUID(ErrorKind.INVALID_VALUE),
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

    /** @return an exception of this reason's kind, with the formatted message and this reason */
    public CompartException exception(String format, Object... args) {
        return CompartException.refused(this, String.format(format, args));
    }
}
