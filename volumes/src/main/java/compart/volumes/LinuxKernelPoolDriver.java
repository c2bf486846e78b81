package compart.volumes;

import compart.errors.CompartException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The {@code linux-kernel} driver: its pool is a directory of kernels provided by the kernel package,
 * {@code dir_path/VERSION/} (vmlinuz, initramfs, {@code modules.img}), and a qube's {@code kernel} volume is the
 * read-only {@code modules.img} of the kernel it boots. It holds no volumes the toolstack manages: they are never
 * created, started or stopped, so the pool is never opened ({@link #holdsVolumes()} is false). This class owns what
 * the toolstack knows of it: its options, where a kernel's files are, and the settings it refuses (with Qubes'
 * messages: {@code revisions_to_keep} other than 0, {@code rw}, {@code ephemeral}).
 *
 * <p>Options: {@code dir_path} (default {@value #DEFAULT_DIR}). Thread safe (stateless).
 */
public final class LinuxKernelPoolDriver extends NamedPoolDriver {
    /** The driver's name, as Qubes spells it. */
    public static final String NAME = "linux-kernel";
    /** Where Qubes installs kernels when the pool names no {@code dir_path}. */
    public static final String DEFAULT_DIR = "/var/lib/qubes/vm-kernels";

    public LinuxKernelPoolDriver() {
        super(NAME, "dir_path");
    }

    @Override
    public boolean holdsVolumes() {
        return false;
    }

    /** @throws CompartException INVALID_VALUE always: the pool holds kernels, not volumes */
    @Override
    public Pool open(PoolConfig config) {
        throw CompartException.invalidValue("pool %s holds kernels (driver linux-kernel): it has no volumes to "
                + "manage", config.name());
    }

    /**
     * @param options the pool's options ({@code dir_path}); empty when there is no kernel pool
     * @param version the kernel's version, the qube's {@code kernel} property
     * @return the directory of kernel {@code version}: its {@code vmlinuz}, {@code initramfs}, modules image
     */
    public static Path kernelDirectory(Map<String, String> options, String version) {
        return Path.of(options.getOrDefault("dir_path", DEFAULT_DIR), version);
    }

    /**
     * @param options the pool's options ({@code dir_path}); empty when there is no kernel pool
     * @param version the kernel's version, the qube's {@code kernel} property
     * @return the kernel modules image a qube running kernel {@code version} gets as its {@code kernel} volume
     */
    public static Path modulesImage(Map<String, String> options, String version) {
        return kernelDirectory(options, version).resolve("modules.img");
    }

    /**
     * Refuses keeping revisions of a kernel volume or pool, as Qubes' driver does.
     *
     * @param what the volume ({@code work:kernel}) or pool ({@code pool linux-kernel}), for the message
     * @throws CompartException INVALID_VALUE unless {@code keep} is 0
     */
    public static void checkRevisionsToKeep(long keep, String what) {
        if (keep != 0) {
            throw CompartException.invalidValue("LinuxKernel supports only revisions_to_keep=0 (%s)", what);
        }
    }

    /**
     * Refuses making a kernel volume writable.
     *
     * @param volume the volume, {@code qube:name}, for the message
     * @throws CompartException INVALID_VALUE when {@code rw}
     */
    public static void checkRw(boolean rw, String volume) {
        if (rw) {
            throw CompartException.invalidValue("LinuxKernel supports only read-only volumes (%s)", volume);
        }
    }

    /**
     * Refuses making a kernel volume ephemeral.
     *
     * @param volume the volume, {@code qube:name}, for the message
     * @throws CompartException INVALID_VALUE always
     */
    public static void refuseEphemeral(String volume) {
        throw CompartException.invalidValue("LinuxModules does not support setting ephemeral value (%s)", volume);
    }
}
