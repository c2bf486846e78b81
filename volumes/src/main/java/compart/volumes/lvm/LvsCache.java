package compart.volumes.lvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The last {@code lvs} report of one volume group, shared by every {@code lvm_thin} pool of this process on that
 * group (as Qubes' lvm driver keeps one report for all its pools). It is read once and then answered from memory
 * until:
 * <ul>
 *   <li>one of our own {@code lvm} commands changes the group ({@link #invalidate}, called before and after each);</li>
 *   <li>LVM's metadata backup of the group ({@code BACKUP_DIR/VG}, rewritten by every metadata change of any tool)
 *       or the directory {@code /dev/mapper} (changed by every activation, rename and removal) is not as it was
 *       when the report was read: another tool changed the group behind our back;</li>
 *   <li>the caller asks for a report younger than a given age (allocation figures grow as qubes write, which
 *       changes no metadata; Qubes reads them anew after 30 s, {@link #USAGE_AGE}).</li>
 * </ul>
 * A caller that acted on a cached report and failed asks again after {@link #invalidate} (see
 * {@code LvmThinVolume}), so a change neither showed costs one more {@code lvs}, not correctness.
 *
 * <p>Thread-safe: one read at a time per group; a read that an invalidation overtook is returned to its caller
 * but not kept.
 */
final class LvsCache {
    /** How old allocation figures may be, as Qubes' {@code refresh_cache}. */
    static final Duration USAGE_AGE = Duration.ofSeconds(30);
    /** Any age: for names, origins, tags and sizes, which only LVM metadata changes alter. */
    static final Duration ANY_AGE = Duration.ofNanos(Long.MAX_VALUE);

    private record Group(LvmCommandRunner runner, String lvm, String vg, Path backupDir) {}

    private static final Path DEVICE_MAPPER = Path.of("/dev/mapper");
    private static final Map<Group, LvsCache> GROUPS = new ConcurrentHashMap<>();

    private final Group group;
    private final LongSupplier nanoClock;
    private final ReentrantLock reading = new ReentrantLock();
    private List<LogicalVolume> report;
    private long readAtNanos;
    private Object stateSeen;
    private long generation;
    private long reads;
    private long requests;

    private LvsCache(Group group, LongSupplier nanoClock) {
        this.group = group;
        this.nanoClock = nanoClock;
    }

    /**
     * @param backupDir LVM's {@code backup_dir} (normally {@code /etc/lvm/backup}); without a file for the group
     *                  there, changes behind our back are found only when an operation fails on the cached report
     * @param nanoClock a monotonic clock in nanoseconds (the cache of a group keeps the clock it was made with)
     * @return the cache of the group, shared with every pool on it that runs LVM through {@code runner}
     */
    static LvsCache of(LvmCommandRunner runner, String lvm, String vg, Path backupDir, LongSupplier nanoClock) {
        return GROUPS.computeIfAbsent(new Group(runner, lvm, vg, backupDir), g -> new LvsCache(g, nanoClock));
    }

    /** @return the group's volumes, read by {@code lvs} unless the kept report is valid and younger than maxAge */
    List<LogicalVolume> report(Duration maxAge) {
        synchronized (this) {
            requests++;
        }
        List<LogicalVolume> kept = valid(maxAge);
        if (kept != null) {
            return kept;
        }
        reading.lock();
        try {
            kept = valid(maxAge); // another thread may have read it while we waited
            if (kept != null) {
                return kept;
            }
            long startedIn;
            synchronized (this) {
                startedIn = generation;
            }
            Object state = metadataState();
            List<LogicalVolume> fresh = LvsReport.parse(group.runner().run(
                    LvmCommand.list(group.lvm(), group.vg())));
            synchronized (this) {
                reads++;
                if (generation == startedIn) {
                    report = fresh;
                    readAtNanos = nanoClock.getAsLong();
                    stateSeen = state;
                }
            }
            return fresh;
        } finally {
            reading.unlock();
        }
    }

    private List<LogicalVolume> valid(Duration maxAge) {
        Object state = metadataState();
        synchronized (this) {
            if (report == null || !Objects.equals(state, stateSeen)
                    || nanoClock.getAsLong() - readAtNanos > maxAge.toNanos()) {
                return null;
            }
            return report;
        }
    }

    /** Forgets the report: the next question reads the group anew. */
    synchronized void invalidate() {
        generation++;
        report = null;
    }

    /** @return how many times {@code lvs} ran for this group */
    synchronized long reads() {
        return reads;
    }

    /** @return how many times a report was asked for (each was one {@code lvs} before this cache) */
    synchronized long requests() {
        return requests;
    }

    /**
     * @return what identifies, as they are now, the group's metadata backup (file, time, size) and the directory of
     *         device-mapper devices (which changes when any tool activates, renames or removes a volume)
     */
    private Object metadataState() {
        return List.of(attributes(group.backupDir().resolve(group.vg())), attributes(DEVICE_MAPPER));
    }

    private static Object attributes(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return List.of(Objects.requireNonNullElse(a.fileKey(), ""), a.lastModifiedTime(), a.size());
        } catch (IOException e) {
            return "absent";
        }
    }
}
