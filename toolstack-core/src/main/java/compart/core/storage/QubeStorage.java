package compart.core.storage;

import compart.core.model.Inventory;
import compart.core.model.Prop;
import compart.core.model.Qube;
import compart.core.model.VolumeDefinition;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.LinuxKernelPoolDriver;
import compart.volumes.PoolConfig;
import compart.volumes.PoolDrivers;
import compart.volumes.Volume;
import compart.volumes.VolumeConfig;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One qube's storage, bound to an inventory: its volumes with Qubes' per-class rules (create, start, stop, remove),
 * the volumes module's config of each, where each is, and the settings its pool's driver refuses. Made by
 * {@link Storage#of(Inventory, Qube)}; the inventory is the one the caller read, so a view is for one operation.
 *
 * <p>A snapshot volume's source is resolved from the inventory, as Qubes does: an AppVM's root snapshots its
 * TemplateVM's root; a DispVM's root follows its AppVM's root to the TemplateVM's, its private snapshots the
 * AppVM's private. Volumes that are not managed ({@link #managed}: kernel files, volumes without an id) are
 * skipped by the lifecycle methods.
 *
 * <p>Thread safe when its {@link Storage} is; calls that touch volumes do file I/O.
 */
public final class QubeStorage {
    private static final Logger LOG = LoggerFactory.getLogger(QubeStorage.class);
    private static final List<String> START_ORDER = List.of("root", "private", "volatile");

    private final Storage storage;
    private final Inventory inv;
    private final Qube q;

    QubeStorage(Storage storage, Inventory inv, Qube q) {
        this.storage = Objects.requireNonNull(storage, "storage");
        this.inv = Objects.requireNonNull(inv, "inventory");
        this.q = Objects.requireNonNull(q, "qube");
    }

    /** @return the qube this view is bound to */
    public Qube qube() {
        return q;
    }

    /** @return whether the volume lives in a volume pool (false for kernel files and volumes without an id) */
    public boolean managed(VolumeDefinition v) {
        return Storage.managed(inv, v);
    }

    /**
     * Binds one of the qube's volumes.
     *
     * @throws CompartException NOT_FOUND (no such volume), INVALID_VALUE (a kernel volume), STORAGE (pool)
     */
    public Volume volume(String name) {
        var v = q.volumes().get(name);
        if (v == null) {
            throw CompartException.notFound("qube %s has no volume %s", q.name(), name);
        }
        return volume(v);
    }

    /**
     * Binds one of the qube's volumes.
     *
     * @throws CompartException INVALID_VALUE (a kernel volume), STORAGE (pool)
     */
    public Volume volume(VolumeDefinition v) {
        if (!managed(v)) {
            throw CompartException.invalidValue("volume %s:%s in pool %s is not a managed volume (kernel files are "
                    + "provided by the kernel package)", q.name(), v.name(), v.pool());
        }
        return storage.pool(inv.pools().get(v.pool())).volume(v.vid(), configOf(v));
    }

    /**
     * The volumes module's config of one of the qube's volumes, with a snapshot's source resolved.
     *
     * @throws CompartException INVALID_STATE when a snapshot volume has no source or its source is in another
     *                          pool; INVALID_VALUE for combinations Qubes does not use
     */
    public VolumeConfig configOf(VolumeDefinition v) {
        return configOf(inv, q, v);
    }

    static VolumeConfig configOf(Inventory inv, Qube q, VolumeDefinition v) {
        String name = v.name().replace('.', '_');
        if (v.snapOnStart()) {
            var source = sourceOf(inv, q, v);
            if (!source.pool().equals(v.pool())) {
                throw new CompartException(ErrorKind.STORAGE, "volume " + q.name() + ":" + v.name() + " in pool "
                        + v.pool() + " snapshots " + source.vid() + " in pool " + source.pool() + ": snapshots across "
                        + "pools are not supported; keep a qube's root with its template's");
            }
            return new VolumeConfig(name, v.size(), v.rw(), true, false, source.vid(), 0, false);
        }
        if (v.saveOnStop()) {
            return new VolumeConfig(name, v.size(), v.rw(), false, true, null, v.revisionsToKeep(), false);
        }
        return new VolumeConfig(name, v.size(), v.rw(), false, false, null, 0, v.ephemeral());
    }

    /**
     * The size qubesd reports for a volume: a snapshot volume that follows its source (configured size 0) has the
     * size of the volume it snapshots (an AppVM's root is as large as its template's root), as qubesd copies the
     * source's size into the volume's config.
     *
     * @return the size in bytes; the configured size when the source cannot be resolved
     */
    public long reportedSize(VolumeDefinition v) {
        return reportedSize(inv, q, v);
    }

    static long reportedSize(Inventory inv, Qube q, VolumeDefinition v) {
        if (!v.snapOnStart() || v.size() != 0) {
            return v.size();
        }
        try {
            return sourceOf(inv, q, v).size();
        } catch (CompartException e) {
            return v.size();
        }
    }

    /** @return the volume a snapshot volume is taken from: the template's volume of the same name, followed */
    static VolumeDefinition sourceOf(Inventory inv, Qube q, VolumeDefinition v) {
        var seen = new HashSet<String>();
        Qube cur = q;
        VolumeDefinition cv = v;
        while (cv.snapOnStart()) {
            if (!seen.add(cur.name())) {
                throw CompartException.invalidState("volume %s:%s: its snapshot sources form a loop", q.name(),
                        v.name());
            }
            var t = inv.templateOf(cur);
            String volumeName = cv.name();
            if (t.isEmpty() || !t.get().volumes().containsKey(volumeName)) {
                String src = cv.source();
                if (src.isEmpty()) {
                    throw CompartException.invalidState("volume %s:%s is a snapshot, but %s has no template volume "
                            + "%s and no source is set", q.name(), v.name(), cur.name(), volumeName);
                }
                return inv.qubes().values().stream().flatMap(x -> x.volumes().values().stream())
                        .filter(x -> x.vid().equals(src) && !x.snapOnStart()).findFirst()
                        .orElseThrow(() -> CompartException.invalidState("volume %s:%s snapshots %s, which no qube "
                                + "has", q.name(), v.name(), src));
            }
            cur = t.get();
            cv = cur.volumes().get(volumeName);
        }
        return cv;
    }

    /**
     * @return the file backing the volume's block device while the qube runs (for a kernel volume, the modules
     *         image of the qube's kernel); opens the volume's pool
     */
    public Path blockDevicePath(VolumeDefinition v) {
        if (!managed(v)) {
            return kernelModules(v);
        }
        return volume(v).blockDevicePath();
    }

    /**
     * The same path as {@link #blockDevicePath}, computed by the pool's driver from the configuration alone: no
     * pool is opened and no file read (for a start plan).
     *
     * @throws CompartException NOT_FOUND (no such driver), INVALID_VALUE (pool options, volume id), as opening would
     */
    public Path plannedBlockDevicePath(VolumeDefinition v) {
        if (!managed(v)) {
            return kernelModules(v);
        }
        var p = inv.pools().get(v.pool());
        var config = new PoolConfig(p.name(), p.driver(), p.config());
        return PoolDrivers.named(p.driver()).blockDevicePath(config, v.vid(), configOf(v))
                .orElseThrow(() -> CompartException.invalidValue("pool %s (driver %s) has no block device for %s",
                        p.name(), p.driver(), v.vid()));
    }

    private Path kernelModules(VolumeDefinition v) {
        var p = inv.pools().get(v.pool());
        return LinuxKernelPoolDriver.modulesImage(p == null ? Map.of() : p.config(),
                inv.value(q, Prop.KERNEL).orElse(""));
    }

    /**
     * @return where the volume is, as {@code admin.vm.volume.Info} shows it ({@code path=}): the committed image
     *         of a file pool, the device of an LVM volume; empty for a volume without an id
     */
    public String volumePath(VolumeDefinition v) {
        var p = inv.pools().get(v.pool());
        if (v.vid().isEmpty() || p == null) {
            return "";
        }
        try {
            return PoolDrivers.find(p.driver()).flatMap(d -> d.volumePath(new PoolConfig(p.name(), p.driver(),
                    p.config()), v.vid())).map(Path::toString).orElse("");
        } catch (CompartException e) {
            LOG.debug("volume {}:{}: {}", q.name(), v.name(), e.getMessage());
            return "";
        }
    }

    /**
     * Checks a new {@code revisions_to_keep} against the volume's pool: a kernel volume keeps none.
     *
     * @return whether the value is to be stored (false for a volume that is not managed, which keeps 0)
     * @throws CompartException INVALID_VALUE, with Qubes' message, for a value the volume cannot keep
     */
    public boolean checkRevisionsToKeep(VolumeDefinition v, long keep) {
        if (managed(v)) {
            return true;
        }
        LinuxKernelPoolDriver.checkRevisionsToKeep(keep, q.name() + ":" + v.name());
        return false;
    }

    /** @throws CompartException INVALID_VALUE, with Qubes' message, when a kernel volume is made writable */
    public void checkRw(VolumeDefinition v, boolean rw) {
        if (!managed(v)) {
            LinuxKernelPoolDriver.checkRw(rw, q.name() + ":" + v.name());
        }
    }

    /** @throws CompartException INVALID_VALUE, with Qubes' message, when a kernel volume is made ephemeral */
    public void checkEphemeral(VolumeDefinition v) {
        if (!managed(v)) {
            LinuxKernelPoolDriver.refuseEphemeral(q.name() + ":" + v.name());
        }
    }

    /**
     * Creates the storage of a new qube: images for its persistent volumes. Leftover files at the same volume ids
     * (from a crash between creating volumes and storing the qube) are removed first, found per volume (the pool is
     * never scanned, so creates do not slow down with its size nor race removes of other qubes). All or nothing.
     */
    public void create() {
        var created = new ArrayDeque<Volume>();
        try {
            for (var v : q.volumes().values()) {
                if (!managed(v)) {
                    continue;
                }
                var vol = volume(v);
                if (vol.isRunning() || (v.saveOnStop() && !vol.revisions().isEmpty())) {
                    removeLeftover(v, vol);
                }
                try {
                    vol.create();
                } catch (CompartException e) {
                    if (e.kind() != ErrorKind.ALREADY_EXISTS) {
                        throw e;
                    }
                    removeLeftover(v, vol); // its image only: found by the create itself, not a scan of the pool
                    vol.create();
                }
                created.push(vol);
            }
        } catch (RuntimeException e) {
            throw undone(e, created, Volume::remove);
        }
    }

    private void removeLeftover(VolumeDefinition v, Volume vol) {
        LOG.warn("volume {}:{} ({}) has leftover data from an earlier qube of that name: removed", q.name(), v.name(),
                v.vid());
        vol.remove();
    }

    /** Removes the qube's volumes (best effort: what cannot be removed is logged and the rest still removed). */
    public void remove() {
        for (var v : q.volumes().values()) {
            if (managed(v)) {
                try {
                    volume(v).remove();
                } catch (RuntimeException e) {
                    LOG.error("could not remove volume {}:{} ({}): {}", q.name(), v.name(), v.vid(), e.getMessage());
                }
            }
        }
    }

    /**
     * Starts the qube's volumes in Qubes' order (root, private, volatile, others); on failure stops those started.
     *
     * @return the block device file of each started volume, by volume name
     */
    public Map<String, Path> start() {
        var started = new ArrayDeque<Volume>();
        var paths = new LinkedHashMap<String, Path>();
        try {
            for (var v : ordered()) {
                if (!managed(v)) {
                    continue;
                }
                var vol = volume(v);
                vol.start();
                started.push(vol);
                paths.put(v.name(), vol.blockDevicePath());
            }
            return paths;
        } catch (RuntimeException e) {
            throw undone(e, started, Volume::stop);
        }
    }

    /** Stops the qube's volumes: commits the persistent ones, discards snapshots and volatile. Idempotent. */
    public void stop() {
        RuntimeException first = null;
        for (var v : ordered()) {
            if (!managed(v)) {
                continue;
            }
            try {
                volume(v).stop();
            } catch (RuntimeException e) {
                LOG.error("could not stop volume {}:{}: {}", q.name(), v.name(), e.getMessage());
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** @return whether any of the qube's volumes is started */
    public boolean anyRunning() {
        for (var v : q.volumes().values()) {
            try {
                if (managed(v) && volume(v).isRunning()) {
                    return true;
                }
            } catch (RuntimeException e) {
                LOG.debug("volume {}:{}: {}", q.name(), v.name(), e.getMessage());
            }
        }
        return false;
    }

    /** @return {@code failure}, after undoing (newest first) what was done; what the undo throws is suppressed */
    private static RuntimeException undone(RuntimeException failure, Deque<Volume> done, Consumer<Volume> undo) {
        while (!done.isEmpty()) {
            try {
                undo.accept(done.pop());
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
        }
        return failure;
    }

    private List<VolumeDefinition> ordered() {
        var out = new ArrayList<VolumeDefinition>();
        START_ORDER.forEach(n -> Optional.ofNullable(q.volumes().get(n)).ifPresent(out::add));
        q.volumes().values().stream().filter(v -> !START_ORDER.contains(v.name())).forEach(out::add);
        return out;
    }
}
