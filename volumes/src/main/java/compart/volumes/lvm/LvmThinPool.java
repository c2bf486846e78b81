package compart.volumes.lvm;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.DriverSteps;
import compart.volumes.Pool;
import compart.volumes.PoolConfig;
import compart.volumes.PoolUsage;
import compart.volumes.Volume;
import compart.volumes.VolumeConfig;
import compart.volumes.VolumeLocks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/** A pool of thin volumes in one LVM thin pool (see {@link LvNames} for the names and {@link LvmPlans} for the rules). */
final class LvmThinPool implements Pool {
    private static final Pattern LVM_NAME = Pattern.compile("[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}");

    private final PoolConfig config;
    private final Lvm lvm;
    private final int defaultRevisionsToKeep;
    private final int reservePercent;
    private final VolumeLocks locks;

    private LvmThinPool(PoolConfig config, Lvm lvm, VolumeLocks locks) {
        this.config = config;
        this.lvm = lvm;
        this.defaultRevisionsToKeep = config.intOption("revisions_to_keep", 1, 0, 1000);
        this.reservePercent = config.intOption("reserve_percent", 10, 0, 90);
        this.locks = locks;
    }

    static LvmThinPool open(PoolConfig config) {
        return open(config, Lvm.PROCESSES, System::nanoTime);
    }

    /**
     * @param runner    runs the pool's lvm commands
     * @param nanoClock the monotonic clock that ages the cached lvs report
     */
    static LvmThinPool open(PoolConfig config, LvmCommandRunner runner, LongSupplier nanoClock) {
        String vg = config.requiredOption("volume_group");
        String thin = config.requiredOption("thin_pool");
        for (String n : List.of(vg, thin)) {
            if (!LVM_NAME.matcher(n).matches()) {
                throw CompartException.invalidValue("pool %s: %s is not a valid LVM name", config.name(), n);
            }
        }
        String command = config.option("lvm", "lvm");
        Lvm lvm = new Lvm(new LvmPlans(command, vg, thin), runner, LvsCache.of(runner, command, vg,
                Path.of(config.option("lvm_backup_dir", "/etc/lvm/backup")), nanoClock));
        LogicalVolume pool = lvm.volumes().get(thin);
        if (pool == null || !pool.isThinPool()) {
            throw new CompartException(ErrorKind.STORAGE, "pool " + config.name() + ": " + vg + "/" + thin
                    + (pool == null ? " does not exist" : " is not a thin pool (lv_attr " + pool.attributes() + ")")
                    + "; make one with 'lvcreate --type thin-pool -L SIZE -n " + thin + " " + vg + "'");
        }
        Path lockDir = Path.of(config.option("lock_dir", "/run/lock/compart/lvm/" + vg + "/" + thin));
        try {
            Files.createDirectories(lockDir);
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "pool " + config.name() + ": cannot create its lock directory "
                    + lockDir + ": " + e, e);
        }
        return new LvmThinPool(config, lvm, VolumeLocks.of(lockDir));
    }

    @Override
    public PoolConfig config() {
        return config;
    }

    @Override
    public Volume volume(String vid, VolumeConfig volumeConfig) {
        return new LvmThinVolume(this, vid, LvNames.lvName(config.name(), vid), volumeConfig);
    }

    @Override
    public List<String> volumeIds() {
        return lvm.volumes().keySet().stream()
                .filter(n -> !n.equals(lvm.plans().thinPool()) && LvNames.isVolume(n))
                .map(LvNames::vid).sorted().toList();
    }

    @Override
    public PoolUsage usage() {
        LogicalVolume pool = lvm.volumes(LvsCache.USAGE_AGE).get(lvm.plans().thinPool());
        if (pool == null) {
            throw new CompartException(ErrorKind.STORAGE, "pool " + config.name() + ": its thin pool is gone");
        }
        long used = pool.usedBytes();
        return new PoolUsage(pool.size(), used, pool.size() - used, pool.size() * reservePercent / 100);
    }

    @Override
    public int reservePercent() {
        return reservePercent;
    }

    /** Refuses an operation that would leave less than the reserve free in the thin pool. */
    void requireSpace(String what, long bytes) {
        DriverSteps.requireSpace(this, what, bytes, " in thin pool " + lvm.plans().vg() + "/" + lvm.plans().thinPool(),
                "grow the thin pool (lvextend)");
    }

    Lvm lvm() {
        return lvm;
    }

    int defaultRevisionsToKeep() {
        return defaultRevisionsToKeep;
    }

    VolumeLocks.Held lock(String vid) {
        return locks.lock(vid);
    }

    Map<String, LogicalVolume> volumes() {
        return lvm.volumes();
    }

    /** @return the thin pool's volumes with allocation figures no older than Qubes lets them be */
    Map<String, LogicalVolume> volumesWithUsage() {
        return lvm.volumes(LvsCache.USAGE_AGE);
    }
}
