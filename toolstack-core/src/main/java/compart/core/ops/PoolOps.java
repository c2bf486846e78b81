package compart.core.ops;

import compart.core.model.PoolDefinition;
import compart.core.storage.Storage;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.PoolUsage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
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
    private final Toolstack toolstack;

    /** @param toolstack the inventory and the storage */
    public PoolOps(Toolstack toolstack) {
        this.toolstack = toolstack;
    }

    /** @return each pool driver's parameters (besides {@code name}), drivers sorted by name */
    public static Map<String, List<String>> poolDriverParameters() {
        return Storage.driverParameters();
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
        var allowed = Storage.driverParameters().get(driver);
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
        Optional<Path> made = Optional.empty();
        if (config.containsKey("dir_path")) {
            Path dir = checkedDirectory(name, config.get("dir_path"));
            made = firstMissing(dir);
        }
        try {
            toolstack.storage().checkNewPool(pool);
            toolstack.change(inv -> inv.withPool(pool));
        } catch (RuntimeException e) {
            toolstack.storage().forget(name);
            made.ifPresent(PoolOps::removeTree);
            throw e;
        }
    }

    /**
     * @return a pool's {@code dir_path} as a path: absolute, normalised, without control characters
     * @throws CompartException STORAGE (StoragePoolException) for anything else: a relative path would be resolved
     *                          against the daemon's working directory
     */
    private static Path checkedDirectory(String pool, String untrustedDir) {
        boolean printable = untrustedDir.chars().allMatch(c -> c >= 0x20 && c != 0x7f);
        Path dir = printable ? Path.of(untrustedDir) : null;
        if (dir == null || !dir.isAbsolute() || !dir.normalize().equals(dir)) {
            throw new CompartException(ErrorKind.STORAGE, "pool " + pool + ": dir_path must be an absolute path of "
                    + "printable characters without '.' or '..', such as /var/lib/qubes/pool-" + pool);
        }
        return dir;
    }

    /** @return the outermost directory of {@code dir} that does not exist yet (what an Add would create) */
    private static Optional<Path> firstMissing(Path dir) {
        Path missing = null;
        for (Path d = dir; d != null && !Files.exists(d); d = d.getParent()) {
            missing = d;
        }
        return Optional.ofNullable(missing);
    }

    /** Removes what a refused Add created (a directory that did not exist before it, and its lock file). */
    private static void removeTree(Path made) {
        try (Stream<Path> all = Files.walk(made)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("a refused pool left {} behind: {}", made, e.getMessage());
        }
    }

    /** Sets how many revisions a pool's volumes keep by default (a kernel pool keeps none). */
    public void setPoolRevisionsToKeep(PoolDefinition p, long keep) {
        if (keep < -1) {
            throw new CompartException(ErrorKind.PROTOCOL, "Value can't be lower than -1");
        }
        toolstack.storage().poolWithRevisionsToKeep(p, keep)
                .ifPresent(changed -> toolstack.change(inv -> inv.withPoolReplaced(changed)));
    }

    /**
     * Turns a pool's deduplication on or off ({@code qvm-pool set POOL -o dedup=on}); on, the pool's driver runs a
     * first full pass, then deduplicates each commit of a volume in the background.
     *
     * @param value {@code on} or {@code off} (Qubes' {@code True}/{@code False}, {@code yes}/{@code no},
     *              {@code 1}/{@code 0} too), stored as {@code on} or {@code off}
     * @throws CompartException INVALID_VALUE for another value or a driver without deduplication
     */
    public void setPoolDedup(PoolDefinition p, String value) {
        String v = switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "on", "true", "yes", "1" -> "on";
            case "off", "false", "no", "0" -> "off";
            default -> throw CompartException.invalidValue("Invalid value for dedup: %s (on or off)", value);
        };
        var changed = toolstack.storage().poolWithOption(p, "dedup", v);
        toolstack.change(inv -> inv.withPoolReplaced(changed));
    }

    /** @return what the pool's driver adds to its info: deduplication state and figures ({@code dedup_*}) */
    public Map<String, String> poolFigures(PoolDefinition p) {
        return toolstack.storage().poolFigures(p);
    }

    /** Removes a pool no volume uses. */
    public void removePool(String name) {
        toolstack.change(inv -> inv.withoutPool(name));
        toolstack.storage().forget(name);
    }

    /** @return the pool's size and use; empty for a kernel pool or when the driver cannot tell (logged) */
    public Optional<PoolUsage> poolUsage(PoolDefinition p) {
        return toolstack.storage().poolUsage(p);
    }
}
