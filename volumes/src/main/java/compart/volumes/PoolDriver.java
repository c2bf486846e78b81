package compart.volumes;

import compart.errors.CompartException;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/**
 * Service provider interface of pool drivers, found with {@link ServiceLoader}. Drivers: {@code file-reflink}
 * (image files on XFS with reflink or btrfs) and {@code lvm_thin} (thin volumes of an LVM thin pool).
 */
public interface PoolDriver {
    /** @return the driver's name as Qubes spells it ({@code file-reflink}) */
    String name();

    /**
     * Opens (and on first use sets up) a pool. Checks what the driver needs, e.g. that the filesystem can reflink.
     *
     * @throws CompartException STORAGE when the storage cannot hold this pool, INVALID_VALUE for bad options
     */
    Pool open(PoolConfig config);

    /**
     * Opens a pool with the driver its config names.
     *
     * @throws CompartException NOT_FOUND when no installed driver has that name
     */
    static Pool openPool(PoolConfig config) {
        return named(config.driver()).open(config);
    }

    /** @return the installed driver called {@code name}; NOT_FOUND when none is */
    static PoolDriver named(String name) {
        ServiceLoader<PoolDriver> loader = ServiceLoader.load(PoolDriver.class, PoolDriver.class.getClassLoader());
        return loader.stream().map(ServiceLoader.Provider::get)
                .filter(d -> d.name().equals(name)).findFirst()
                .orElseThrow(() -> CompartException.notFound("no pool driver %s: installed drivers are %s", name,
                        ServiceLoader.load(PoolDriver.class, PoolDriver.class.getClassLoader()).stream()
                                .map(p -> p.get().name()).collect(Collectors.joining(", "))));
    }
}
