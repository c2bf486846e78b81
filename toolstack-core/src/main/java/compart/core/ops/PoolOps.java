package compart.core.ops;

import compart.core.model.PoolDefinition;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.PoolUsage;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The storage pools as the Admin API manages them ({@code admin.pool.*}): the drivers and their parameters, adding
 * a pool (its driver checks it first), changing how many revisions it keeps, removing it, and its usage.
 *
 * <p>Thread safe (state lives in the {@link Toolstack}).
 */
public final class PoolOps {
    private static final Logger LOG = LoggerFactory.getLogger(PoolOps.class);
    /** The pool drivers and the parameters each takes (besides {@code name}). */
    private static final SortedMap<String, List<String>> POOL_DRIVERS = new TreeMap<>(Map.of(
            "file", List.of("dir_path", "revisions_to_keep", "ephemeral_volatile"),
            "file-reflink", List.of("dir_path", "revisions_to_keep", "ephemeral_volatile", "setup_check"),
            "lvm_thin", List.of("volume_group", "thin_pool", "revisions_to_keep", "ephemeral_volatile"),
            "linux-kernel", List.of("dir_path")));

    private final Toolstack toolstack;

    /** @param toolstack the inventory and the storage */
    public PoolOps(Toolstack toolstack) {
        this.toolstack = toolstack;
    }

    /** @return each pool driver's parameters (besides {@code name}), drivers sorted by name */
    public static Map<String, List<String>> poolDriverParameters() {
        return POOL_DRIVERS;
    }

    /**
     * Adds a pool; its driver refuses what cannot hold volumes (no reflink, bad options) before it is stored.
     *
     * @param name   the pool's name
     * @param driver one of {@link #poolDriverParameters()}
     * @param config the driver's parameters
     * @throws CompartException PERMISSION_DENIED (no such driver), PROTOCOL (a parameter the driver does not
     *                          take), ALREADY_EXISTS (the name), STORAGE (the driver refuses it)
     */
    public void addPool(String name, String driver, Map<String, String> config) {
        var allowed = POOL_DRIVERS.get(driver);
        if (allowed == null) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Argument not in 'available drivers'");
        }
        if (!allowed.containsAll(config.keySet())) {
            throw new CompartException(ErrorKind.PROTOCOL, "Unexpected driver options found");
        }
        var pool = new PoolDefinition(name, driver, config);
        if (toolstack.inventory().pools().containsKey(name)) {
            throw new CompartException(ErrorKind.ALREADY_EXISTS, "Storage pool is in use: '" + name + "'");
        }
        if (!pool.driver().equals("linux-kernel")) {
            toolstack.storage().pool(pool);
        }
        toolstack.change(inv -> inv.withPool(pool));
    }

    /** Sets how many revisions a pool's volumes keep by default (a kernel pool keeps none). */
    public void setPoolRevisionsToKeep(PoolDefinition p, long keep) {
        if (keep < -1) {
            throw new CompartException(ErrorKind.PROTOCOL, "Value can't be lower than -1");
        }
        if (p.driver().equals("linux-kernel")) {
            if (keep != 0) {
                throw CompartException.invalidValue("LinuxKernel supports only revisions_to_keep=0 (pool %s)",
                        p.name());
            }
            return;
        }
        var config = new TreeMap<>(p.config());
        config.put("revisions_to_keep", Long.toString(keep));
        var changed = new PoolDefinition(p.name(), p.driver(), config);
        toolstack.storage().pool(changed); // the driver refuses a value it cannot keep, before it is stored
        toolstack.change(inv -> inv.withPoolReplaced(changed));
    }

    /** Removes a pool no volume uses. */
    public void removePool(String name) {
        toolstack.change(inv -> inv.withoutPool(name));
        toolstack.storage().forget(name);
    }

    /** @return the pool's size and use; empty for a kernel pool or when the driver cannot tell (logged) */
    public Optional<PoolUsage> poolUsage(PoolDefinition p) {
        if (p.driver().equals("linux-kernel")) {
            return Optional.empty();
        }
        try {
            return Optional.of(toolstack.storage().pool(p).usage());
        } catch (CompartException e) {
            LOG.warn("pool {}: {}", p.name(), e.getMessage());
            return Optional.empty();
        }
    }
}
