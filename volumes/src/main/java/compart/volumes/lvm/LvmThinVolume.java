package compart.volumes.lvm;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.DriverSteps;
import compart.volumes.Revision;
import compart.volumes.Volume;
import compart.volumes.VolumeConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A volume of an {@code lvm_thin} pool. Each changing operation takes the volume's lock, looks at the thin pool's
 * volumes in the cached {@code lvs} report ({@link LvsCache}), repairs what a crash left ({@link LvmPlans#repair}),
 * and runs the commands its rule gives. When it fails having looked only at a report read before it began, another
 * tool may have changed LVM behind our back: it reads the report anew and runs once more.
 */
final class LvmThinVolume implements Volume {
    private static final Logger LOG = LoggerFactory.getLogger(LvmThinVolume.class);
    private final LvmThinPool pool;
    private final String vid;
    private final String name;
    private volatile VolumeConfig config;

    LvmThinVolume(LvmThinPool pool, String vid, String name, VolumeConfig config) {
        this.pool = pool;
        this.vid = vid;
        this.name = name;
        this.config = Objects.requireNonNull(config, "config");
    }

    @Override
    public String vid() {
        return vid;
    }

    @Override
    public VolumeConfig config() {
        return config;
    }

    private LvmPlans plans() {
        return pool.lvm().plans();
    }

    private int keep() {
        int k = config.revisionsToKeep();
        return k < 0 ? pool.defaultRevisionsToKeep() : k;
    }

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }

    /** @return the thin pool's volumes after repairing this one */
    private Map<String, LogicalVolume> repaired() {
        Map<String, LogicalVolume> lvs = pool.volumes();
        List<LvmCommand> fix = plans().repair(name, lvs, keep(), now());
        if (fix.isEmpty()) {
            return lvs;
        }
        pool.lvm().runAll(fix);
        return pool.volumes();
    }

    @Override
    public void create() {
        changing(() -> {
            Map<String, LogicalVolume> lvs = repaired();
            if (config.saveOnStop()) {
                if (lvs.containsKey(name)) {
                    throw new CompartException(ErrorKind.ALREADY_EXISTS, "volume " + vid + " exists already in pool "
                            + pool.config().name());
                }
                pool.requireSpace("create " + vid, 0);
                pool.lvm().run(LvmCommand.create(plans().lvm(), plans().vg(), plans().thinPool(), name, config.size()));
            }
            return null;
        });
    }

    @Override
    public void remove() {
        changing(() -> {
            pool.lvm().runAll(plans().remove(name, pool.volumes()));
            return null;
        });
    }

    @Override
    public void start() {
        changing(() -> {
            Map<String, LogicalVolume> lvs = repaired();
            String source = config.snapOnStart() ? LvNames.lvName(pool.config().name(), config.source()) : null;
            List<LvmCommand> steps = plans().start(vid, name, config, source, lvs);
            if (!steps.isEmpty()) {
                pool.requireSpace("start " + vid, 0);
            }
            pool.lvm().runAll(steps);
            return null;
        });
    }

    @Override
    public void stop() {
        changing(() -> {
            pool.lvm().runAll(plans().stop(name, config, repaired(), keep(), now()));
            return null;
        });
    }

    @Override
    public boolean isRunning() {
        return LvmPlans.isRunning(name, config, pool.volumes());
    }

    @Override
    public boolean isOutdated() {
        if (!config.snapOnStart()) {
            return false;
        }
        return LvmPlans.isOutdated(name, config, LvNames.lvName(pool.config().name(), config.source()), pool.volumes());
    }

    @Override
    public List<Revision> revisions() {
        return LvNames.revisions(name, pool.volumes().keySet()).stream()
                .map(id -> new Revision(id, LvNames.timestamp(id))).toList();
    }

    @Override
    public void revert(String id) {
        changing(() -> {
            Map<String, LogicalVolume> lvs = repaired();
            requireStopped("revert", lvs);
            List<LvmCommand> steps = plans().revert(vid, name, id, lvs, keep(), now());
            pool.requireSpace("revert " + vid, 0);
            pool.lvm().runAll(steps);
            return null;
        });
    }

    @Override
    public void resize(long newSize) {
        changing(() -> {
            VolumeConfig c = config;
            VolumeConfig resized = DriverSteps.grown(vid, c, newSize);
            List<LvmCommand> steps = plans().resize(name, c, newSize, repaired());
            if (!steps.isEmpty()) {
                pool.requireSpace("resize " + vid, 0);
            }
            pool.lvm().runAll(steps);
            config = resized;
            return null;
        });
    }

    @Override
    public void importData(InputStream data, long size) {
        locked(() -> {
            requireSaveOnStop("import data into");
            VolumeConfig resized = config.withSize(size);
            retrying(() -> { // the stream can be read once: only the checks are run again
                requireStopped("import data into", repaired());
                pool.requireSpace("import " + size + " bytes into " + vid, size);
                return null;
            });
            String staged = name + LvNames.IMPORT;
            pool.lvm().run(LvmCommand.create(plans().lvm(), plans().vg(), plans().thinPool(), staged, size));
            try {
                write(data, size, device(staged));
            } catch (RuntimeException e) {
                pool.lvm().run(LvmCommand.remove(plans().lvm(), plans().vg(), staged));
                throw e;
            }
            pool.lvm().run(LvmCommand.addTag(plans().lvm(), plans().vg(), staged, LvmCommand.STAGED_TAG));
            pool.lvm().runAll(plans().install(name, pool.volumes(), keep(), now()));
            config = resized;
            return null;
        });
    }

    private void write(InputStream data, long size, Path device) {
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.WRITE)) {
            byte[] buf = new byte[1 << 20];
            long done = 0;
            while (done < size) {
                int n = data.read(buf, 0, (int) Math.min(buf.length, size - done));
                if (n < 0) {
                    throw CompartException.invalidValue("import into %s: the data ended after %d of %d bytes", vid, done, size);
                }
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                while (bb.hasRemaining()) {
                    ch.write(bb, done + bb.position());
                }
                done += n;
            }
            ch.force(true);
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "import into " + vid + ": cannot write " + device + ": " + e, e);
        }
    }

    @Override
    public void exportData(OutputStream out) {
        requireSaveOnStop("export");
        LogicalVolume committed = pool.volumes().get(name);
        if (committed == null) {
            pool.lvm().invalidate(); // made behind our back?
            committed = pool.volumes().get(name);
        }
        if (committed == null) {
            throw CompartException.notFound("volume %s has no committed image to export", vid);
        }
        pool.lvm().run(LvmCommand.activate(plans().lvm(), plans().vg(), name));
        try (FileChannel ch = FileChannel.open(device(name), StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            long done = 0;
            while (done < committed.size()) {
                buf.clear().limit((int) Math.min(buf.capacity(), committed.size() - done));
                int n = ch.read(buf, done);
                if (n < 0) {
                    break;
                }
                out.write(buf.array(), 0, n);
                done += n;
            }
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "export " + vid + ": " + e, e);
        }
    }

    @Override
    public void cloneFrom(Volume source) {
        requireSaveOnStop("clone into");
        if (source instanceof LvmThinVolume lv && lv.plans().equals(plans())) {
            changing(() -> {
                Map<String, LogicalVolume> lvs = repaired();
                requireStopped("clone into", lvs);
                LogicalVolume src = lvs.get(lv.name);
                if (src == null) {
                    throw CompartException.notFound("cannot clone %s into %s: the source has no committed image", lv.vid, vid);
                }
                pool.requireSpace("clone " + lv.vid + " into " + vid, 0);
                pool.lvm().runAll(plans().cloneFrom(lv.name, name, lvs, keep(), now()));
                config = config.withSize(Math.max(config.size(), src.size()));
                return null;
            });
            return;
        }
        DriverSteps.cloneByStream(source, this, (what, e) -> new CompartException(ErrorKind.STORAGE,
                e instanceof InterruptedException ? what + " interrupted" : what + ": " + e, e));
    }

    @Override
    public long usage() {
        Map<String, LogicalVolume> lvs = pool.volumesWithUsage();
        LogicalVolume v = lvs.getOrDefault(name + LvNames.SNAP, lvs.get(name));
        return v == null ? 0 : v.usedBytes();
    }

    @Override
    public long size() {
        Map<String, LogicalVolume> lvs = pool.volumes();
        LogicalVolume v = lvs.getOrDefault(name + LvNames.SNAP, lvs.get(name));
        return v == null ? config.size() : v.size();
    }

    @Override
    public Path blockDevicePath() {
        return device(plans().vg(), name, config);
    }

    /** @return the device a running qube's block device of the volume with LV {@code lv} is backed by */
    static Path device(String vg, String lv, VolumeConfig config) {
        return Path.of("/dev", vg, config.snapOnStart() || config.saveOnStop() ? lv + LvNames.SNAP : lv);
    }

    private Path device(String lv) {
        return Path.of("/dev", plans().vg(), lv);
    }

    @Override
    public String toString() {
        return "LvmThinVolume[" + pool.config().name() + ":" + vid + " = " + plans().vg() + "/" + name + "]";
    }

    private void requireStopped(String what, Map<String, LogicalVolume> lvs) {
        DriverSteps.requireStopped(lvs.containsKey(name + LvNames.SNAP), what, vid);
    }

    private void requireSaveOnStop(String what) {
        DriverSteps.requireSaveOnStop(config, what, vid);
    }

    private <T> T locked(Supplier<T> body) {
        try (var held = pool.lock(vid)) {
            return body.get();
        }
    }

    /** {@link #retrying} under the volume's lock. */
    private <T> T changing(Supplier<T> body) {
        return locked(() -> retrying(body));
    }

    /**
     * Runs {@code body}; when it fails without having read the report itself (it acted on a cached one), forgets
     * the report and runs it once more, so a change made behind our back costs one {@code lvs}, not a failure.
     * Running a body again is what the crash rules are for: it plans from the volumes as they now are.
     */
    private <T> T retrying(Supplier<T> body) {
        long reads = pool.lvm().reportReads();
        try {
            return body.get();
        } catch (CompartException e) {
            if (pool.lvm().reportReads() != reads) {
                throw e;
            }
            LOG.info("{}: {} (on a cached lvs report): reading it again and trying once more", this, e.getMessage());
            pool.lvm().invalidate();
            return body.get();
        }
    }
}
