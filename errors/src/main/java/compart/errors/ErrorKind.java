package compart.errors;

/**
 * What kind of failure a {@link CompartException} reports. The kind, not the message, decides how a caller
 * reacts: the Admin API picks the Qubes exception class from it, the CLI its exit code.
 */
public enum ErrorKind {
    /** A qube, volume, pool, property, label or file that was named does not exist. */
    NOT_FOUND,
    /** Something with that name or identity exists already. */
    ALREADY_EXISTS,
    /** The object exists but is in the wrong state for the operation (a running qube cannot be removed). */
    INVALID_STATE,
    /** A value given by the caller is malformed or out of range. */
    INVALID_VALUE,
    /** The caller is not allowed to do this (policy denied, file permissions). */
    PERMISSION_DENIED,
    /** A peer broke a wire protocol (Admin API, policy daemon, qrexec). */
    PROTOCOL,
    /** The hypervisor or one of its libraries (libxl, libxenctrl, xenstore) failed. */
    HYPERVISOR,
    /** Storage failed: the filesystem, a pool driver, out of space. */
    STORAGE,
    /** An operation did not finish in the time allowed. */
    TIMEOUT
}
