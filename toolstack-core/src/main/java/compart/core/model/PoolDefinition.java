package compart.core.model;

import compart.errors.CompartException;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A storage pool as configured (the volumes module runs it): its name, driver and driver parameters.
 *
 * @param name   the pool's name, from {@code [A-Za-z0-9_.-]}
 * @param driver e.g. {@code file-reflink}, {@code lvm_thin}, {@code linux-kernel}
 * @param config the driver parameters (dir_path, revisions_to_keep …), without name and driver
 */
public record PoolDefinition(String name, String driver, Map<String, String> config) {
    /**
     * The name of Qubes' pool of kernels (driver {@code linux-kernel} too): the pool of the {@code kernel} volume of
     * a new qube, the default {@code default_pool_kernel}, where a qube's {@code kernel} is looked up.
     */
    public static final String KERNEL_POOL = "linux-kernel";

    /** Copies the config and checks the name. */
    public PoolDefinition {
        Objects.requireNonNull(driver, "driver");
        if (name == null || !name.matches("[A-Za-z0-9_.-]+")) {
            throw CompartException.invalidValue("pool name must be in the safe set [A-Za-z0-9_.-]: %s",
                    QubeClass.printable(name));
        }
        config = Collections.unmodifiableMap(new TreeMap<>(config));
    }

    /** @return {@code name=..., driver=...} and the config, sorted, as {@code admin.pool.Info} lists them */
    public SortedMap<String, String> info() {
        var all = new TreeMap<String, String>(config);
        all.put("name", name);
        all.put("driver", driver);
        return all;
    }

    static PoolDefinition of(String name, String driver, Map<String, String> config) {
        return new PoolDefinition(name, driver, new TreeMap<>(config));
    }
}
