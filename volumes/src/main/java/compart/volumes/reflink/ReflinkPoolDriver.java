package compart.volumes.reflink;

import compart.volumes.NamedPoolDriver;
import compart.volumes.Pool;
import compart.volumes.PoolConfig;
import compart.volumes.VolumeConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The {@code file-reflink} driver: each volume is a sparse image file on a filesystem that can share blocks
 * between files (XFS made with {@code reflink=1}, btrfs), so snapshots, revisions and clones are FICLONE calls
 * whose cost does not grow with the volume's size.
 *
 * <p>Options: {@code dir_path} (required), {@code revisions_to_keep} (default 1), {@code reserve_percent}
 * (default 10: operations that would leave less free space are refused), {@code setup_check} ({@code yes}:
 * refuse a filesystem without reflink; {@code no}: accept it and make sparse copies where a reflink pool clones,
 * with a warning when the pool is opened — the same volumes and crash safety, at the cost of copying the data),
 * {@code dedup} ({@code off} by default; {@code on}: every commit of a volume — a qube's stop, a revert, an import,
 * a clone — is deduplicated against the rest of the pool in the background by the pool's
 * {@code DedupKeeper}, whose hash store lives in the pool's {@code .compart-dedup} directory).
 */
public final class ReflinkPoolDriver extends NamedPoolDriver {
    /** The driver's name, as Qubes spells it. */
    public static final String NAME = "file-reflink";

    public ReflinkPoolDriver() {
        super(NAME, "dir_path", "revisions_to_keep", "ephemeral_volatile", "setup_check");
    }

    /** @return {@code dedup}, which {@code qvm-pool set POOL -o dedup=on} turns on */
    @Override
    public List<String> settableOptions() {
        return List.of("dedup");
    }

    @Override
    public Pool open(PoolConfig config) {
        return ReflinkPool.open(config, CrashPoints.NONE);
    }

    @Override
    public Optional<Path> volumePath(PoolConfig config, String vid) {
        return Optional.of(imagePath(config, vid));
    }

    @Override
    public Optional<Path> blockDevicePath(PoolConfig config, String vid, VolumeConfig volume) {
        return Optional.of(workingPath(config, vid));
    }

    /** @return the working copy of volume {@code vid}, under the pool's directory as an opened pool resolves it */
    static Path workingPath(PoolConfig config, String vid) {
        return ImageNames.working(ReflinkPool.directory(config), vid);
    }

    /** @return the committed image of volume {@code vid} in the pool's {@code dir_path}, as the options spell it */
    static Path imagePath(PoolConfig config, String vid) {
        return ImageNames.committed(Path.of(config.option("dir_path", "")), vid);
    }
}
