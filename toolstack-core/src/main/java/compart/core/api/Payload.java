package compart.core.api;

/** Whether an Admin API method takes a payload, as qubesd checks it. */
enum Payload {
    /** The call must have a non-empty payload, else ProtocolError. */
    REQUIRED,
    /** The call must have no payload, else ProtocolError. */
    NONE,
    /** The handler decides. */
    OPTIONAL
}
