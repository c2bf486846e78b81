package compart.core.api;

/** Which destination an Admin API method accepts, as qubesd's {@code dest_adminvm}. */
enum Dest {
    /** Only dom0 ({@code expected destination to be AdminVM}). */
    ADMIN,
    /** Any qube but dom0 ({@code expected destination to not be AdminVM}). */
    NOT_ADMIN,
    /** Any qube. */
    ANY
}
