package compart.volumes.reflink;

import compart.volumes.Pool;
import compart.volumes.PoolConfig;
import compart.volumes.PoolDriver;

/**
 * The {@code file-reflink} driver: each volume is a sparse image file on a filesystem that can share blocks
 * between files (XFS made with {@code reflink=1}, btrfs), so snapshots, revisions and clones are FICLONE calls
 * whose cost does not grow with the volume's size.
 *
 * <p>Options: {@code dir_path} (required), {@code revisions_to_keep} (default 1), {@code reserve_percent}
 * (default 10: operations that would leave less free space are refused), {@code setup_check} ({@code yes}:
 * refuse a filesystem without reflink; {@code no}: accept it and make sparse copies where a reflink pool clones,
 * with a warning when the pool is opened — the same volumes and crash safety, at the cost of copying the data).
 */
public final class ReflinkPoolDriver implements PoolDriver {
    /** The driver's name, as Qubes spells it. */
    public static final String NAME = "file-reflink";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Pool open(PoolConfig config) {
        return ReflinkPool.open(config, CrashPoints.NONE);
    }
}
