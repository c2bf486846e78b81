package compart.volumes.reflink;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.DriverSteps;
import compart.volumes.Pool;
import compart.volumes.PoolConfig;
import compart.volumes.PoolUsage;
import compart.volumes.Volume;
import compart.volumes.VolumeConfig;
import compart.volumes.VolumeLocks;
import compart.volumes.dedup.DedupKeeper;
import compart.volumes.dedup.DedupOptions;
import compart.xl.linux.FileSystemStats;
import compart.xl.linux.LinuxFile;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@code file-reflink} pool: a directory on a reflink-capable filesystem, holding each volume's image files
 * ({@link ImageNames} names them; see {@link ReflinkVolume} for the crash-safety protocol). Each volume
 * operation holds the volume's cross-process lock ({@link VolumeLocks}, file {@code .compart-pool.lock}).
 *
 * <p>A pool whose directory cannot reflink is refused, unless its {@code setup_check} is {@code no}: then it
 * works on plain sparse copies where it would clone (see {@link DurableFiles}), with one warning when opened —
 * as Qubes' driver does — so its snapshots, revisions and clones cost time and space in proportion to the data.
 */
final class ReflinkPool implements Pool {
    private static final Logger LOG = LoggerFactory.getLogger(ReflinkPool.class);
    /** Where the deduplication keeps its hash store, in the pool's directory (hidden: no volume's name). */
    static final String DEDUP_DIR = ".compart-dedup";
    private static final DedupKeeper.Busy NOT_BUSY = () -> {};
    private static final Pattern VID_SEGMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    private final PoolConfig config;
    private final Path dir;
    private final int defaultRevisionsToKeep;
    private final int reservePercent;
    private final CrashPoints crash;
    private final DurableFiles files;
    private VolumeLocks locks;
    /** null when the pool's option {@code dedup} is off */
    private DedupKeeper dedup;

    private ReflinkPool(PoolConfig config, Path dir, CrashPoints crash, boolean reflinks) {
        this.config = config;
        this.dir = dir;
        this.defaultRevisionsToKeep = config.intOption("revisions_to_keep", 1, 0, 1000);
        this.reservePercent = config.intOption("reserve_percent", 10, 0, 90);
        this.crash = crash;
        this.files = new DurableFiles(crash, reflinks);
    }

    /** @return the pool's directory: its {@code dir_path}, absolute and normalised */
    static Path directory(PoolConfig config) {
        return Path.of(config.requiredOption("dir_path")).toAbsolutePath().normalize();
    }

    static ReflinkPool open(PoolConfig config, CrashPoints crash) {
        Path dir = directory(config);
        String check = config.option("setup_check", "yes");
        if (!check.equals("yes") && !check.equals("no")) {
            throw CompartException.invalidValue("pool %s: option setup_check=%s must be yes or no", config.name(), check);
        }
        new DurableFiles(crash, true).mkdirs(dir);
        VolumeLocks locks = VolumeLocks.of(dir);
        CompartException noReflink = reflinkFailure(config, dir);
        if (noReflink != null && check.equals("yes")) {
            throw noReflink;
        }
        if (noReflink != null) {
            LOG.warn("pool {}: {} ({}) cannot make reflink copies: falling back to plain copies (snapshots and clones"
                            + " copy every allocated block); use XFS with reflink=1 or btrfs for O(1) snapshots",
                    config.name(), dir, LinuxFile.fileSystem(dir).typeName());
        }
        ReflinkPool pool = new ReflinkPool(config, dir, crash, noReflink == null);
        pool.locks = locks;
        if (dedupOn(config)) {
            pool.dedup = new DedupKeeper(config.name(), pool::keptImages, dir.resolve(DEDUP_DIR).resolve("hashes.mv"),
                    DedupOptions.DEFAULT_BLOCK_SIZE);
        }
        return pool;
    }

    /** @return the pool's option {@code dedup} ({@code on}/{@code off}, Qubes' {@code True}/{@code False} too) */
    static boolean dedupOn(PoolConfig config) {
        String v = config.option("dedup", "off").toLowerCase(Locale.ROOT);
        return switch (v) {
            case "on", "true", "yes", "1" -> true;
            case "off", "false", "no", "0", "" -> false;
            default -> throw CompartException.invalidValue("pool %s: option dedup=%s must be on or off",
                    config.name(), config.option("dedup", ""));
        };
    }

    /** @return the files a pass of deduplication shares blocks between: committed images and revisions */
    private List<Path> keptImages() {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                    .filter(p -> !DurableFiles.isTemporary(p) && ImageNames.isKept(dir.relativize(p).toString()))
                    .toList();
        } catch (IOException e) {
            throw DurableFiles.io("list the images of pool " + config.name(), e);
        }
    }

    /** @return why {@code dir} cannot make reflink copies, or null when it can */
    private static CompartException reflinkFailure(PoolConfig config, Path dir) {
        long r = ThreadLocalRandom.current().nextLong() >>> 1;
        Path a = dir.resolve(".reflink-check" + DurableFiles.TMP_MARK + r + "a");
        Path b = dir.resolve(".reflink-check" + DurableFiles.TMP_MARK + r + "b");
        try {
            Files.writeString(a, "compart reflink check");
            LinuxFile.cloneFile(a, b);
            return null;
        } catch (CompartException e) {
            return new CompartException(ErrorKind.STORAGE, "pool " + config.name() + ": the filesystem of " + dir + " ("
                    + LinuxFile.fileSystem(dir).typeName() + ") cannot make reflink copies, which the file-reflink"
                    + " driver needs for snapshots and clones; put the pool on XFS made with 'mkfs.xfs -m reflink=1'"
                    + " or on btrfs (or pass setup_check=no to fall back to plain copies). Cause: " + e.getMessage(), e);
        } catch (IOException e) {
            throw DurableFiles.io("reflink check in " + dir, e);
        } finally {
            DurableFiles.deleteQuietly(a);
            DurableFiles.deleteQuietly(b);
        }
    }

    @Override
    public PoolConfig config() {
        return config;
    }

    @Override
    public ReflinkVolume volume(String vid, VolumeConfig volumeConfig) {
        checkVid(vid);
        return new ReflinkVolume(this, vid, volumeConfig);
    }

    @Override
    public List<String> volumeIds() {
        try {
            return filesBelow(p -> !DurableFiles.isTemporary(p)).stream()
                    .map(p -> ImageNames.vidOfImage(dir.relativize(p).toString()))
                    .flatMap(Optional::stream)
                    .distinct().sorted().toList();
        } catch (IOException e) {
            throw DurableFiles.io("list volumes of pool " + config.name(), e);
        }
    }

    @Override
    public List<String> volumeIdsWithLeftovers() {
        var out = new TreeSet<>(volumeIds());
        try {
            filesBelow(p -> true).stream().map(p -> ImageNames.vidOfAnyFile(dir.relativize(p).toString()))
                    .flatMap(Optional::stream).forEach(out::add);
        } catch (IOException e) {
            LOG.warn("pool {}: cannot list {}: {}", config.name(), dir, e.getMessage());
        }
        return List.copyOf(out);
    }

    /**
     * @return the regular files below the pool's directory that {@code keep} accepts; files and directories removed
     *         while it walks (a concurrent remove) are skipped, not failures
     */
    private List<Path> filesBelow(Predicate<Path> keep) throws IOException {
        var found = new ArrayList<Path>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile() && keep.test(file)) {
                    found.add(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
        return found;
    }

    @Override
    public PoolUsage usage() {
        FileSystemStats s = LinuxFile.fileSystem(dir);
        return new PoolUsage(s.totalBytes(), s.usedBytes(), s.availableBytes(), s.totalBytes() * reservePercent / 100);
    }

    @Override
    public int reservePercent() {
        return reservePercent;
    }

    @Override
    public Map<String, String> figures() {
        return dedup == null ? Map.of() : dedup.figures();
    }

    @Override
    public void close() {
        if (dedup != null) {
            dedup.close();
        }
    }

    /** @return the pool's deduplication, when on */
    Optional<DedupKeeper> dedup() {
        return Optional.ofNullable(dedup);
    }

    /** A volume was committed: its changes are deduplicated in the background when {@code dedup} is on. */
    void committed() {
        if (dedup != null) {
            dedup.committed();
        }
    }

    /** @return a lease that makes a running deduplication pass wait while a volume operation goes on */
    DedupKeeper.Busy busy() {
        return dedup == null ? NOT_BUSY : dedup.busy();
    }

    /**
     * Refuses an operation that would leave less than the reserve free.
     *
     * @param what  the operation, for the message ("start appvms/work/private")
     * @param bytes bytes the operation allocates at once
     */
    void requireSpace(String what, long bytes) {
        DriverSteps.requireSpace(this, what, bytes, "", "grow the pool");
    }

    private void checkVid(String vid) {
        if (vid == null || vid.isEmpty()) {
            throw CompartException.invalidValue("pool %s: empty volume id", config.name());
        }
        String[] parts = vid.split("/", -1);
        if (parts.length > 4) {
            throw CompartException.invalidValue("pool %s: volume id %s has more than 4 parts", config.name(), vid);
        }
        for (String s : parts) {
            if (!VID_SEGMENT.matcher(s).matches() || s.equals("..")) {
                throw CompartException.invalidValue("pool %s: volume id %s has a bad part '%s'", config.name(), vid, s);
            }
        }
        String last = parts[parts.length - 1];
        if (ImageNames.ambiguous(last)) {
            throw CompartException.invalidValue("pool %s: volume id %s may not end with -dirty or .img", config.name(), vid);
        }
    }

    Path dir() {
        return dir;
    }

    int defaultRevisionsToKeep() {
        return defaultRevisionsToKeep;
    }

    DurableFiles files() {
        return files;
    }

    CrashPoints crash() {
        return crash;
    }

    /** @return the cross-process lock of volume {@code vid}, once taken */
    VolumeLocks.Held lock(String vid) {
        return locks.lock(vid);
    }
}
