package compart.core.storage;

import compart.core.model.Inventory;
import compart.core.model.Qube;
import compart.core.model.VolumeDefinition;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.Pool;
import compart.volumes.PoolConfig;
import compart.volumes.PoolDriver;
import compart.volumes.Volume;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The qubes' volumes, run through {@code compart.volumes}: opens each configured pool once (again when its
 * configuration changes) and applies Qubes' per-class rules. A snapshot volume's source is resolved from the
 * inventory at each start, as Qubes does: an AppVM's root snapshots its TemplateVM's root; a DispVM's root
 * follows its AppVM's root to the TemplateVM's, its private snapshots the AppVM's private.
 *
 * <p>Pools with driver {@code linux-kernel} hold kernels, not volumes: their volumes are read-only files that are
 * never created, started or stopped. A {@code file-reflink} pool with {@code setup_check=no} on a filesystem that
 * cannot reflink falls back to plain (sparse) copies, with a warning: the driver does that itself. Pools of
 * Qubes' old {@code file} driver are run by the {@code file-reflink} driver with {@code setup_check=no}.
 *
 * <p>Thread safe. Calls do file I/O: callers run them on the qube's queue, never on the accept loop.
 */
public final class Storage {
    private static final Logger LOG = LoggerFactory.getLogger(Storage.class);
    private static final List<String> OWN_PREFIXES = List.of("appvms/", "vm-templates/", "disp");
    private static final String FILE_REFLINK = "file-reflink";

    private record Opened(compart.core.model.PoolDefinition config, Pool pool) {
    }

    private final ConcurrentHashMap<String, Opened> pools = new ConcurrentHashMap<>();

    /**
     * @return the running pool for a configured one, opened on first use
     * @throws CompartException STORAGE (cannot be opened: the message says why), NOT_FOUND (unknown driver)
     */
    public Pool pool(compart.core.model.PoolDefinition p) {
        var cur = pools.get(p.name());
        if (cur != null && cur.config().equals(p)) {
            return cur.pool();
        }
        synchronized (this) {
            cur = pools.get(p.name());
            if (cur != null && cur.config().equals(p)) {
                return cur.pool();
            }
            var opened = new Opened(p, open(p));
            pools.put(p.name(), opened);
            return opened.pool();
        }
    }

    /** Forgets a removed pool (its data stays where it is). */
    public void forget(String poolName) {
        pools.remove(poolName);
    }

    private static Pool open(compart.core.model.PoolDefinition p) {
        if (p.driver().equals("linux-kernel")) {
            throw CompartException.invalidValue("pool %s holds kernels (driver linux-kernel): it has no volumes to "
                    + "manage", p.name());
        }
        if (p.driver().equals("file")) {
            // Qubes' old driver copies images; the file-reflink driver has the same volumes and, without
            // reflink, copies too (setup_check=no): it runs these pools, which keep their driver name
            var options = new java.util.HashMap<>(p.config());
            options.put("setup_check", "no");
            return PoolDriver.named(FILE_REFLINK).open(new PoolConfig(p.name(), p.driver(), options));
        }
        return PoolDriver.openPool(new PoolConfig(p.name(), p.driver(), p.config()));
    }

    /**
     * Asks the {@code file-reflink} driver whether it can share blocks in {@code dir} (created if missing; it
     * becomes a pool directory, with the driver's lock file).
     *
     * @return whether the filesystem of {@code dir} can make reflink copies
     */
    public static boolean canReflink(Path dir) {
        try {
            PoolDriver.named(FILE_REFLINK).open(new PoolConfig("reflink-probe", FILE_REFLINK,
                    Map.of("dir_path", dir.toString(), "setup_check", "yes")));
            return true;
        } catch (CompartException e) {
            LOG.debug("{}: {}", dir, e.getMessage());
            return false;
        }
    }

    /** @return whether the volume lives in a volume pool (false for the kernel and volumes without an id) */
    public static boolean managed(Inventory inv, VolumeDefinition v) {
        var p = inv.pools().get(v.pool());
        return !v.vid().isEmpty() && p != null && !p.driver().equals("linux-kernel");
    }

    /**
     * Binds one of the qube's volumes.
     *
     * @throws CompartException NOT_FOUND (no such volume), INVALID_VALUE (a kernel volume), STORAGE (pool)
     */
    public Volume volume(Inventory inv, Qube q, String name) {
        var v = q.volumes().get(name);
        if (v == null) {
            throw CompartException.notFound("qube %s has no volume %s", q.name(), name);
        }
        return volume(inv, q, v);
    }

    Volume volume(Inventory inv, Qube q, VolumeDefinition v) {
        if (!managed(inv, v)) {
            throw CompartException.invalidValue("volume %s:%s in pool %s is not a managed volume (kernel files are "
                    + "provided by the kernel package)", q.name(), v.name(), v.pool());
        }
        var p = inv.pools().get(v.pool());
        return pool(p).volume(v.vid(), configOf(inv, q, v));
    }

    /**
     * The volumes module's config of a qube's volume, with a snapshot's source resolved from the inventory.
     *
     * @throws CompartException INVALID_STATE when a snapshot volume has no source or its source is in another
     *                          pool; INVALID_VALUE for combinations Qubes does not use
     */
    public static compart.volumes.VolumeConfig configOf(Inventory inv, Qube q, VolumeDefinition v) {
        String name = v.name().replace('.', '_');
        if (v.snapOnStart()) {
            var source = sourceOf(inv, q, v);
            if (!source.pool().equals(v.pool())) {
                throw new CompartException(ErrorKind.STORAGE, "volume " + q.name() + ":" + v.name() + " in pool "
                        + v.pool() + " snapshots " + source.vid() + " in pool " + source.pool() + ": snapshots across "
                        + "pools are not supported; keep a qube's root with its template's");
            }
            return new compart.volumes.VolumeConfig(name, v.size(), v.rw(), true, false, source.vid(), 0, false);
        }
        if (v.saveOnStop()) {
            return new compart.volumes.VolumeConfig(name, v.size(), v.rw(), false, true, null, v.revisionsToKeep(),
                    false);
        }
        return new compart.volumes.VolumeConfig(name, v.size(), v.rw(), false, false, null, 0, v.ephemeral());
    }

    /**
     * The size qubesd reports for a volume: a snapshot volume that follows its source (configured size 0) has the
     * size of the volume it snapshots (an AppVM's root is as large as its template's root), as qubesd copies the
     * source's size into the volume's config.
     *
     * @return the size in bytes; the configured size when the source cannot be resolved
     */
    public static long reportedSize(Inventory inv, Qube q, VolumeDefinition v) {
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

    /** @return the file backing the volume's block device while the qube runs (kernel files for kernel volumes) */
    public Path blockDevicePath(Inventory inv, Qube q, VolumeDefinition v) {
        if (!managed(inv, v)) {
            var p = inv.pools().get(v.pool());
            String dir = p == null ? "/var/lib/qubes/vm-kernels" : p.config().getOrDefault("dir_path",
                    "/var/lib/qubes/vm-kernels");
            return Path.of(dir, inv.value(q, "kernel").orElse(""), "modules.img");
        }
        return volume(inv, q, v).blockDevicePath();
    }

    /**
     * Creates the storage of a new qube: images for its persistent volumes. Leftover files at the same volume ids
     * (from a crash between creating volumes and storing the qube) are removed first. All or nothing.
     */
    public void createVolumes(Inventory inv, Qube q) {
        var created = new ArrayDeque<Volume>();
        try {
            for (var v : q.volumes().values()) {
                if (!managed(inv, v)) {
                    continue;
                }
                var vol = volume(inv, q, v);
                if (vol.isRunning() || (v.saveOnStop() && !vol.revisions().isEmpty()) || exists(inv, v)) {
                    LOG.warn("volume {}:{} ({}) has leftover data from an earlier qube of that name: removed",
                            q.name(), v.name(), v.vid());
                    vol.remove();
                }
                vol.create();
                created.push(vol);
            }
        } catch (RuntimeException e) {
            while (!created.isEmpty()) {
                try {
                    created.pop().remove();
                } catch (RuntimeException re) {
                    e.addSuppressed(re);
                }
            }
            throw e;
        }
    }

    private boolean exists(Inventory inv, VolumeDefinition v) {
        return pool(inv.pools().get(v.pool())).volumeIds().contains(v.vid());
    }

    /** Removes a qube's volumes (best effort: what cannot be removed is logged and the rest still removed). */
    public void removeVolumes(Inventory inv, Qube q) {
        for (var v : q.volumes().values()) {
            if (managed(inv, v)) {
                try {
                    volume(inv, q, v).remove();
                } catch (RuntimeException e) {
                    LOG.error("could not remove volume {}:{} ({}): {}", q.name(), v.name(), v.vid(), e.getMessage());
                }
            }
        }
    }

    /**
     * Starts a qube's volumes in Qubes' order (root, private, volatile, others); on failure stops those started.
     *
     * @return the block device file of each started volume, by volume name
     */
    public Map<String, Path> startVolumes(Inventory inv, Qube q) {
        var started = new ArrayDeque<Volume>();
        var paths = new java.util.LinkedHashMap<String, Path>();
        try {
            for (var v : ordered(q)) {
                if (!managed(inv, v)) {
                    continue;
                }
                var vol = volume(inv, q, v);
                vol.start();
                started.push(vol);
                paths.put(v.name(), vol.blockDevicePath());
            }
            return paths;
        } catch (RuntimeException e) {
            while (!started.isEmpty()) {
                try {
                    started.pop().stop();
                } catch (RuntimeException se) {
                    e.addSuppressed(se);
                }
            }
            throw e;
        }
    }

    /** Stops a qube's volumes: commits the persistent ones, discards snapshots and volatile. Idempotent. */
    public void stopVolumes(Inventory inv, Qube q) {
        RuntimeException first = null;
        for (var v : ordered(q)) {
            if (!managed(inv, v)) {
                continue;
            }
            try {
                volume(inv, q, v).stop();
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
    public boolean anyRunning(Inventory inv, Qube q) {
        for (var v : q.volumes().values()) {
            try {
                if (managed(inv, v) && volume(inv, q, v).isRunning()) {
                    return true;
                }
            } catch (RuntimeException e) {
                LOG.debug("volume {}:{}: {}", q.name(), v.name(), e.getMessage());
            }
        }
        return false;
    }

    /**
     * Removes volume files that no qube owns under Compart's own prefixes ({@code appvms/}, {@code vm-templates/},
     * {@code disp*}): what a crash between storing a removal and removing the files leaves.
     *
     * @return the {@code pool:vid}s removed
     */
    public List<String> removeOrphans(Inventory inv) {
        var removed = new ArrayList<String>();
        for (var p : inv.pools().values()) {
            if (p.driver().equals("linux-kernel")) {
                continue;
            }
            Set<String> owned = new HashSet<>();
            inv.qubes().values().forEach(q -> q.volumes().values().stream().filter(v -> v.pool().equals(p.name()))
                    .forEach(v -> owned.add(v.vid())));
            Pool pool;
            try {
                pool = pool(p);
            } catch (RuntimeException e) {
                LOG.warn("pool {} cannot be opened: {}", p.name(), e.getMessage());
                continue;
            }
            var candidates = new java.util.TreeSet<>(pool.volumeIds());
            candidates.addAll(imageFileVolumes(p));
            for (String vid : candidates) {
                if (!owned.contains(vid) && OWN_PREFIXES.stream().anyMatch(vid::startsWith)) {
                    pool.volume(vid, compart.volumes.VolumeConfig.volatileVolume("orphan", 0, false)).remove();
                    removed.add(p.name() + ":" + vid);
                }
            }
        }
        removed.forEach(r -> LOG.warn("removed volume {}: no qube owns it (left by an interrupted create or "
                + "remove)", r));
        return removed;
    }

    /**
     * The volume ids of every image file of a directory pool, temporaries included (a crash while creating a
     * volume leaves only a temporary, which the driver's {@code volumeIds} does not list). The file driver names a
     * volume's files {@code VID.img}, {@code VID-dirty.img} and {@code VID.img...}.
     */
    private static List<String> imageFileVolumes(compart.core.model.PoolDefinition p) {
        String dirPath = p.config().get("dir_path");
        if (dirPath == null) {
            return List.of();
        }
        Path dir = Path.of(dirPath);
        try (var walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).map(f -> dir.relativize(f).toString())
                    .filter(n -> n.contains(".img") && OWN_PREFIXES.stream().anyMatch(n::startsWith))
                    .map(n -> n.substring(0, n.indexOf(".img")))
                    .map(n -> n.endsWith("-dirty") ? n.substring(0, n.length() - 6) : n)
                    .distinct().toList();
        } catch (IOException e) {
            LOG.warn("pool {}: cannot list {}: {}", p.name(), dir, e.getMessage());
            return List.of();
        }
    }

    private static List<VolumeDefinition> ordered(Qube q) {
        var order = List.of("root", "private", "volatile");
        var out = new ArrayList<VolumeDefinition>();
        order.forEach(n -> {
            if (q.volumes().containsKey(n)) {
                out.add(q.volumes().get(n));
            }
        });
        q.volumes().values().stream().filter(v -> !order.contains(v.name())).forEach(out::add);
        return out;
    }
}
