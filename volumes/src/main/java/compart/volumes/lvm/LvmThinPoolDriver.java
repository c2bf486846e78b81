package compart.volumes.lvm;

import compart.volumes.NamedPoolDriver;
import compart.volumes.Pool;
import compart.volumes.PoolConfig;
import compart.volumes.VolumeConfig;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The {@code lvm_thin} driver: each volume is a thin volume of an LVM thin pool, so snapshots, revisions and
 * clones are thin snapshots whose cost does not grow with the volume's size. Runs the {@code lvm} command
 * (lvm2, with thin-provisioning-tools and the kernel's dm-thin-pool), as root.
 *
 * <p>Options, as Qubes names them: {@code volume_group} and {@code thin_pool} (required: an existing thin pool),
 * {@code revisions_to_keep} (default 1); ours: {@code reserve_percent} (default 10), {@code lvm} (the command,
 * default {@code lvm}), {@code lock_dir} (where the cross-process volume locks live, default
 * {@code /run/lock/compart/lvm/VG/POOL}), {@code lvm_backup_dir} (LVM's {@code backup_dir}, default
 * {@code /etc/lvm/backup}: its file for the volume group tells the cached {@code lvs} report that another tool
 * changed the group; see {@link LvsCache}).
 */
public final class LvmThinPoolDriver extends NamedPoolDriver {
    /** The driver's name, as Qubes spells it. */
    public static final String NAME = "lvm_thin";

    public LvmThinPoolDriver() {
        super(NAME, "volume_group", "thin_pool", "revisions_to_keep", "ephemeral_volatile");
    }

    @Override
    public Pool open(PoolConfig config) {
        return LvmThinPool.open(config);
    }

    /** @return the device of the volume's committed thin volume, {@code /dev/VG/LV}, as Qubes shows it */
    @Override
    public Optional<Path> volumePath(PoolConfig config, String vid) {
        String vg = config.option("volume_group", "");
        return vg.isEmpty() ? Optional.empty() : Optional.of(Path.of("/dev", vg, LvNames.lvName(config.name(), vid)));
    }

    @Override
    public Optional<Path> blockDevicePath(PoolConfig config, String vid, VolumeConfig volume) {
        return Optional.of(LvmThinVolume.device(config.requiredOption("volume_group"),
                LvNames.lvName(config.name(), vid), volume));
    }
}
