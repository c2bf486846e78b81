package compart.volumes;

import compart.errors.CompartException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Service provider interface of pool drivers, found with {@link ServiceLoader} (see {@link PoolDrivers} for the
 * installed ones). Drivers: {@code file-reflink} (image files on XFS with reflink or btrfs), {@code file} (Qubes'
 * old driver, run as {@code file-reflink} with {@code setup_check=no}), {@code lvm_thin} (thin volumes of an LVM
 * thin pool) and {@code linux-kernel} (read-only kernel files: it holds no volumes, see
 * {@link LinuxKernelPoolDriver}).
 *
 * <p>To add a driver: implement this interface (and {@link Pool}, {@link Volume}) in a package of its own, run
 * {@code PoolContract} on it in the tests, and add it to {@code provides} in {@code module-info.java}.
 */
public interface PoolDriver {
    /** @return the driver's name as Qubes spells it ({@code file-reflink}) */
    String name();

    /** @return the names of the options a pool of this driver accepts, as Qubes lists them for the driver */
    List<String> parameters();

    /**
     * @return options of ours, beyond Qubes' {@link #parameters()}, that may be changed on a pool in use
     *         ({@code admin.pool.Set.OPTION}); the pool is opened again with the new value
     */
    default List<String> settableOptions() {
        return List.of();
    }

    /**
     * @return whether the driver's pools hold volumes the toolstack manages; false for a driver of read-only files
     *         provided by a package ({@code linux-kernel}): such a pool is never opened
     */
    default boolean holdsVolumes() {
        return true;
    }

    /**
     * Opens (and on first use sets up) a pool. Checks what the driver needs, e.g. that the filesystem can reflink.
     *
     * @throws CompartException STORAGE when the storage cannot hold this pool, INVALID_VALUE for bad options
     */
    Pool open(PoolConfig config);

    /**
     * Where volume {@code vid} of a pool of this driver lives, computed from the pool's options without opening
     * it: the committed image file, the logical volume …
     *
     * @return the path, or empty when the driver has none to show
     */
    default Optional<Path> volumePath(PoolConfig config, String vid) {
        return Optional.empty();
    }

    /**
     * The file or device a running qube's block device of volume {@code vid} is backed by, computed from the pool's
     * options without opening it or touching the storage: what {@link Volume#blockDevicePath()} returns once the pool
     * is open (for a start plan made before the volumes are started).
     *
     * @return the path, or empty when the driver holds no volumes
     * @throws CompartException INVALID_VALUE for a required option missing or a malformed vid
     */
    default Optional<Path> blockDevicePath(PoolConfig config, String vid, VolumeConfig volume) {
        return Optional.empty();
    }

    /**
     * Opens a pool with the driver its config names.
     *
     * @throws CompartException NOT_FOUND when no installed driver has that name
     */
    static Pool openPool(PoolConfig config) {
        return PoolDrivers.open(config);
    }

    /** @return the installed driver called {@code name}; NOT_FOUND when none is */
    static PoolDriver named(String name) {
        return PoolDrivers.named(name);
    }
}
