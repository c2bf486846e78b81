package compart.core.api;

/** Whether an Admin API method takes an argument (the {@code +ARG} of the call), as qubesd checks it. */
enum Arg {
    /** The call must have a non-empty argument, else ProtocolError. */
    REQUIRED,
    /** The call must have no argument, else ProtocolError. */
    NONE,
    /** The handler decides. */
    OPTIONAL
}
