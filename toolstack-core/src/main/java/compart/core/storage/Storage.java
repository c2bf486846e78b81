package compart.core.storage;

import compart.core.model.Inventory;
import compart.core.model.PoolDefinition;
import compart.core.model.Qube;
import compart.core.model.VolumeDefinition;
import compart.errors.CompartException;
import compart.volumes.LinuxKernelPoolDriver;
import compart.volumes.Pool;
import compart.volumes.PoolConfig;
import compart.volumes.PoolDrivers;
import compart.volumes.PoolUsage;
import compart.volumes.Volume;
import compart.volumes.VolumeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The qubes' storage, run through {@code compart.volumes}: opens each configured pool once (again when its
 * configuration changes) with the driver it names, answers what the pools' drivers know (their options, whether a
 * pool holds volumes, its usage), and binds one qube's volumes with {@link #of(Inventory, Qube)} (a
 * {@link QubeStorage}, which applies Qubes' per-class rules).
 *
 * <p>Core never names a driver: {@link PoolDrivers} says which drivers hold volumes ({@code linux-kernel}, whose
 * volumes are read-only kernel files, does not: they are never created, started or stopped), a driver computes
 * the paths of its volumes, and Qubes' old {@code file} driver is run by the {@code file-reflink} driver with
 * {@code setup_check=no}, which on a filesystem that cannot reflink falls back to plain (sparse) copies.
 *
 * <p>Thread safe. Calls do file I/O: callers run them on the qube's queue, never on the accept loop.
 */
public final class Storage {
    private static final Logger LOG = LoggerFactory.getLogger(Storage.class);
    private static final List<String> OWN_PREFIXES = List.of("appvms/", "vm-templates/", "disp");
    private static final String FILE_REFLINK = "file-reflink";

    private record Opened(PoolDefinition config, Pool pool) {
    }

    private final ConcurrentHashMap<String, Opened> pools = new ConcurrentHashMap<>();

    /**
     * @return the running pool for a configured one, opened on first use
     * @throws CompartException STORAGE (cannot be opened: the message says why), NOT_FOUND (unknown driver),
     *                          INVALID_VALUE (a pool that holds no volumes, bad options)
     */
    public Pool pool(PoolDefinition p) {
        var cur = pools.get(p.name());
        if (cur != null && cur.config().equals(p)) {
            return cur.pool();
        }
        synchronized (this) {
            cur = pools.get(p.name());
            if (cur != null && cur.config().equals(p)) {
                return cur.pool();
            }
            var opened = new Opened(p, PoolDrivers.open(new PoolConfig(p.name(), p.driver(), p.config())));
            var replaced = pools.put(p.name(), opened);
            if (replaced != null) {
                replaced.pool().close(); // ends its background work; the new one takes over
            }
            return opened.pool();
        }
    }

    /** Forgets a removed pool (its data stays where it is). */
    public void forget(String poolName) {
        var gone = pools.remove(poolName);
        if (gone != null) {
            gone.pool().close();
        }
    }

    /** @return one qube's storage, bound to the inventory the caller read */
    public QubeStorage of(Inventory inv, Qube q) {
        return new QubeStorage(this, inv, q);
    }

    /** @return every installed pool driver's options by driver name, sorted ({@code admin.pool.ListDrivers}) */
    public static Map<String, List<String>> driverParameters() {
        return PoolDrivers.parameters();
    }

    /** @return whether the pool holds volumes the toolstack manages (false for a pool of kernels) */
    public static boolean holdsVolumes(PoolDefinition p) {
        return PoolDrivers.holdsVolumes(p.driver());
    }

    /**
     * @param version a kernel's version (a qube's {@code kernel} property)
     * @return the directory of that kernel ({@code vmlinuz}, {@code initramfs}) in the kernel pool
     *         ({@link PoolDefinition#KERNEL_POOL}); Qubes' default directory without one
     */
    public static Path kernelDirectory(Inventory inv, String version) {
        var p = inv.pools().get(PoolDefinition.KERNEL_POOL);
        return LinuxKernelPoolDriver.kernelDirectory(p == null ? Map.of() : p.config(), version);
    }

    /** @return whether the volume lives in a volume pool (false for the kernel and volumes without an id) */
    public static boolean managed(Inventory inv, VolumeDefinition v) {
        var p = inv.pools().get(v.pool());
        return !v.vid().isEmpty() && p != null && holdsVolumes(p);
    }

    /**
     * Checks a pool before it is stored: its driver opens (and sets up) a pool that holds volumes, refusing what
     * cannot hold them (no reflink, bad options); a pool of kernels is not opened.
     *
     * @throws CompartException as {@link #pool}
     */
    public void checkNewPool(PoolDefinition p) {
        if (holdsVolumes(p)) {
            pool(p);
        }
    }

    /**
     * A pool with another default {@code revisions_to_keep}, checked by its driver before it is stored.
     *
     * @return the changed pool; empty when there is nothing to store (a pool of kernels, which keeps 0)
     * @throws CompartException INVALID_VALUE for a value the driver cannot keep (Qubes' message for kernels)
     */
    public Optional<PoolDefinition> poolWithRevisionsToKeep(PoolDefinition p, long keep) {
        if (!holdsVolumes(p)) {
            LinuxKernelPoolDriver.checkRevisionsToKeep(keep, "pool " + p.name());
            return Optional.empty();
        }
        var config = new TreeMap<>(p.config());
        config.put("revisions_to_keep", Long.toString(keep));
        var changed = new PoolDefinition(p.name(), p.driver(), config);
        pool(changed); // the driver refuses a value it cannot keep, before it is stored
        return Optional.of(changed);
    }

    /**
     * A pool with another value of a driver option that can change while it is in use ({@code dedup} of a
     * {@code file-reflink} pool: {@code on} deduplicates every commit in the background, after a first full pass),
     * checked by its driver (opened with it) before it is stored.
     *
     * @return the changed pool
     * @throws CompartException INVALID_VALUE for an option the pool's driver does not take, or a value it refuses
     */
    public PoolDefinition poolWithOption(PoolDefinition p, String option, String value) {
        if (!PoolDrivers.settableOptions(p.driver()).contains(option)) {
            throw CompartException.invalidValue("Setting option %s is not supported for pool %s (driver %s)", option,
                    p.name(), p.driver());
        }
        var config = new TreeMap<>(p.config());
        config.put(option, value);
        var changed = new PoolDefinition(p.name(), p.driver(), config);
        pool(changed);
        return changed;
    }

    /** @return what the pool's driver adds to {@code qvm-pool info} (deduplication state and figures); logged */
    public Map<String, String> poolFigures(PoolDefinition p) {
        if (!holdsVolumes(p)) {
            return Map.of();
        }
        try {
            return pool(p).figures();
        } catch (CompartException e) {
            LOG.warn("pool {}: {}", p.name(), e.getMessage());
            return Map.of();
        }
    }

    /** @return the pool's space; empty for a pool that holds no volumes or cannot be opened (logged) */
    public Optional<PoolUsage> poolUsage(PoolDefinition p) {
        if (!holdsVolumes(p)) {
            return Optional.empty();
        }
        try {
            return Optional.of(pool(p).usage());
        } catch (CompartException e) {
            LOG.warn("pool {}: {}", p.name(), e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Asks the {@code file-reflink} driver whether it can share blocks in {@code dir} (created if missing; it
     * becomes a pool directory, with the driver's lock file).
     *
     * @return whether the filesystem of {@code dir} can make reflink copies
     */
    public static boolean canReflink(Path dir) {
        try {
            PoolDrivers.open(new PoolConfig("reflink-probe", FILE_REFLINK,
                    Map.of("dir_path", dir.toString(), "setup_check", "yes")));
            return true;
        } catch (CompartException e) {
            LOG.debug("{}: {}", dir, e.getMessage());
            return false;
        }
    }

    /**
     * Removes volumes that no qube owns under Compart's own prefixes ({@code appvms/}, {@code vm-templates/},
     * {@code disp*}), temporaries included: what a crash between storing a removal and removing the files leaves.
     *
     * @return the {@code pool:vid}s removed
     */
    public List<String> removeOrphans(Inventory inv) {
        var removed = new ArrayList<String>();
        for (var p : inv.pools().values()) {
            if (!holdsVolumes(p)) {
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
            for (String vid : new TreeSet<>(pool.volumeIdsWithLeftovers())) {
                if (!owned.contains(vid) && OWN_PREFIXES.stream().anyMatch(vid::startsWith)) {
                    pool.volume(vid, VolumeConfig.volatileVolume("orphan", 0, false)).remove();
                    removed.add(p.name() + ":" + vid);
                }
            }
        }
        removed.forEach(r -> LOG.warn("removed volume {}: no qube owns it (left by an interrupted create or "
                + "remove)", r));
        inv.pools().values().stream().filter(p -> p.driver().equals(FILE_REFLINK))
                .forEach(Storage::removeEmptyQubeDirectories);
        return removed;
    }

    /**
     * Removes the empty per-qube directories ({@code appvms/NAME}, {@code vm-templates/NAME}) of a file-reflink
     * pool: a remove or create killed between its files and its directory leaves them. An empty directory holds no
     * volume, so this needs no inventory.
     */
    private static void removeEmptyQubeDirectories(PoolDefinition p) {
        String dir = p.config().get("dir_path");
        if (dir == null) {
            return;
        }
        for (String kind : List.of("appvms", "vm-templates")) {
            try (Stream<Path> qubes = Files.list(Path.of(dir, kind))) {
                for (Path q : qubes.filter(Files::isDirectory).toList()) {
                    try (Stream<Path> inside = Files.list(q)) {
                        if (inside.findAny().isEmpty()) {
                            Files.delete(q);
                            LOG.info("pool {}: removed the empty directory {} (left by an interrupted create or "
                                    + "remove)", p.name(), q);
                        }
                    } catch (IOException e) {
                        LOG.debug("pool {}: {} not removed: {}", p.name(), q, e.getMessage());
                    }
                }
            } catch (IOException e) {
                LOG.debug("pool {}: no {} to clean: {}", p.name(), kind, e.getMessage());
            }
        }
    }

    // The (inventory, qube, volume) methods of before QubeStorage that the Admin API (core.api) still calls; to be
    // removed when it moves to of(inv, q).
}
