package compart.volumes.reflink;

/**
 * Called after every durable step (a file made, fsynced, renamed, removed, a directory synced) so that tests can
 * stop the process between any two steps, as {@code kill -9} would, and check what the next run repairs.
 */
@FunctionalInterface
interface CrashPoints {
    CrashPoints NONE = step -> {};

    /** @param step what was just done, e.g. {@code rename private-dirty.img -> private.img.new} */
    void passed(String step);
}
