package compart.volumes.lvm;

import compart.volumes.Pool;
import compart.volumes.PoolConfig;
import compart.volumes.PoolDriver;

/**
 * The {@code lvm_thin} driver: each volume is a thin volume of an LVM thin pool, so snapshots, revisions and
 * clones are thin snapshots whose cost does not grow with the volume's size. Runs the {@code lvm} command
 * (lvm2, with thin-provisioning-tools and the kernel's dm-thin-pool), as root.
 *
 * <p>Options, as Qubes names them: {@code volume_group} and {@code thin_pool} (required: an existing thin pool),
 * {@code revisions_to_keep} (default 1); ours: {@code reserve_percent} (default 10), {@code lvm} (the command,
 * default {@code lvm}), {@code lock_dir} (where the cross-process volume locks live, default
 * {@code /run/lock/compart/lvm/VG/POOL}).
 */
public final class LvmThinPoolDriver implements PoolDriver {
    /** The driver's name, as Qubes spells it. */
    public static final String NAME = "lvm_thin";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Pool open(PoolConfig config) {
        return LvmThinPool.open(config);
    }
}
