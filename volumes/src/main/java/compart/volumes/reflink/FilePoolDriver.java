package compart.volumes.reflink;

import compart.volumes.NamedPoolDriver;
import compart.volumes.Pool;
import compart.volumes.PoolConfig;
import compart.volumes.VolumeConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Optional;

/**
 * Qubes' old {@code file} driver, which copies images: its pools have the same files as {@code file-reflink}
 * pools and are run by that driver with {@code setup_check=no} (without reflink it copies too). The pools keep
 * their driver name.
 *
 * <p>Options: {@code dir_path} (required), {@code revisions_to_keep}, as for {@link ReflinkPoolDriver}.
 */
public final class FilePoolDriver extends NamedPoolDriver {
    /** The driver's name, as Qubes spells it. */
    public static final String NAME = "file";

    public FilePoolDriver() {
        super(NAME, "dir_path", "revisions_to_keep", "ephemeral_volatile");
    }

    @Override
    public Pool open(PoolConfig config) {
        var options = new HashMap<>(config.options());
        options.put("setup_check", "no");
        return ReflinkPool.open(new PoolConfig(config.name(), config.driver(), options), CrashPoints.NONE);
    }

    @Override
    public Optional<Path> volumePath(PoolConfig config, String vid) {
        return Optional.of(ReflinkPoolDriver.imagePath(config, vid));
    }

    @Override
    public Optional<Path> blockDevicePath(PoolConfig config, String vid, VolumeConfig volume) {
        return Optional.of(ReflinkPoolDriver.workingPath(config, vid));
    }
}
