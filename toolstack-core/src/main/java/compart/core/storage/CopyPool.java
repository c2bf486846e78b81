package compart.core.storage;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.Pool;
import compart.volumes.PoolConfig;
import compart.volumes.PoolUsage;
import compart.volumes.Volume;
import compart.volumes.VolumeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A pool of image files copied in full (sparse-aware) where a reflink pool would share blocks: the fallback of a
 * {@code file-reflink} pool with {@code setup_check=no} on a filesystem without reflink. Same file layout and the
 * same crash-safety protocol as the reflink driver (see {@link CopyVolume}); slower snapshots, same semantics.
 * Thread safe; operations on one volume are serialised.
 */
final class CopyPool implements Pool {
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    private final PoolConfig config;
    private final Path dir;
    private final int defaultRevisions;
    private final int reservePercent;
    private final ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    CopyPool(PoolConfig config) {
        this.config = config;
        this.dir = Path.of(config.requiredOption("dir_path")).toAbsolutePath().normalize();
        this.defaultRevisions = config.intOption("revisions_to_keep", 1, 0, 1000);
        this.reservePercent = config.intOption("reserve_percent", 10, 0, 90);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "pool " + config.name() + ": cannot create " + dir + ": " + e, e);
        }
    }

    @Override
    public PoolConfig config() {
        return config;
    }

    @Override
    public Volume volume(String vid, VolumeConfig volumeConfig) {
        String[] parts = vid == null ? new String[0] : vid.split("/", -1);
        if (parts.length == 0 || parts.length > 4) {
            throw CompartException.invalidValue("pool %s: bad volume id %s", config.name(), vid);
        }
        for (String s : parts) {
            if (!SEGMENT.matcher(s).matches() || s.equals("..")) {
                throw CompartException.invalidValue("pool %s: volume id %s has a bad part '%s'", config.name(), vid, s);
            }
        }
        if (vid.endsWith("-dirty") || vid.endsWith(".img")) {
            throw CompartException.invalidValue("pool %s: volume id %s may not end with -dirty or .img", config.name(),
                    vid);
        }
        return new CopyVolume(this, vid, volumeConfig);
    }

    @Override
    public List<String> volumeIds() {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString())
                    .filter(s -> s.endsWith(".img") && !s.contains(CopyVolume.TMP_MARK))
                    .map(s -> s.endsWith("-dirty.img") ? s.substring(0, s.length() - 10) : s.substring(0, s.length() - 4))
                    .distinct().sorted().toList();
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "pool " + config.name() + ": cannot list " + dir + ": " + e, e);
        }
    }

    @Override
    public PoolUsage usage() {
        try {
            var store = Files.getFileStore(dir);
            long total = store.getTotalSpace();
            long free = store.getUsableSpace();
            return new PoolUsage(total, total - store.getUnallocatedSpace(), free, total * reservePercent / 100);
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "pool " + config.name() + ": statfs " + dir + ": " + e, e);
        }
    }

    @Override
    public int reservePercent() {
        return reservePercent;
    }

    void requireSpace(String what, long bytes) {
        var u = usage();
        if (u.free() - bytes < u.reserve()) {
            throw new CompartException(ErrorKind.STORAGE, "pool " + config.name() + " is too full to " + what
                    + ": it needs " + bytes + " bytes plus its reserve of " + u.reserve() + " bytes free, but only "
                    + u.free() + " bytes are free; remove unused qubes or revisions, or grow the pool");
        }
    }

    Path dir() {
        return dir;
    }

    int defaultRevisions() {
        return defaultRevisions;
    }

    ReentrantLock lockFor(String vid) {
        return locks.computeIfAbsent(vid, v -> new ReentrantLock());
    }
}
