package compart.volumes.dedup;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.VolumeLocks;
import compart.xl.linux.DedupeOutcome;
import compart.xl.linux.DedupeTarget;
import compart.xl.linux.Extent;
import compart.xl.linux.LinuxFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;
import java.util.stream.Stream;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshot-aware block deduplication of the regular files under some paths, in place.
 *
 * <p>Design. (1) Plan: every file is split into fixed blocks ({@link DedupOptions#blockSize()}) and mapped with
 * FIEMAP ({@link BlockLayout}: each block's physical place and whether it is shared). A block keeps the hash
 * the store has for it when its file is unchanged (inode, size, mtime and ctime), or — in a changed file — when
 * it is still at the same physical place as after the last run and shared both then and now: a shared block is
 * never written in place (reflink filesystems copy it on write), so the same shared place means the same data.
 * A block stored at a shared place that another block with a known hash occupies is an alias of it and is not
 * read either (snapshots, clones, earlier merges). Only the remaining blocks are read — in file order, in large
 * reads, by {@link DedupOptions#threads()} threads that each hash what they read ({@link BlockHash}) — so after a
 * small change in a large image only the changed and the unshared blocks are reread. (2) Merge: blocks are grouped by
 * hash; the canonical block of a group is one the last run kept, else one already shared, else the first seen;
 * a block already at the canonical block's place counts as already shared; the others are merged with
 * FIDEDUPERANGE in runs of consecutive blocks. The kernel compares every byte first, so contents cannot
 * change: a stale hash or a collision only costs a refused merge, and a refused canonical block is reread by
 * the next run. (3) Hashes, file identities and block places are saved in an H2 MVStore.
 *
 * <p>Memory follows the data, not the apparent size: every per-block table holds the blocks FIEMAP maps to data
 * ({@link DataBlocks}), so a sparse 10 GiB image holding 50 MiB costs what 50 MiB cost, in the heap and in the
 * hash file alike; a run whose tables would not fit is refused before it starts ({@link #checkMemory}).
 *
 * <p>A dry run ({@link DedupOptions#dryRun()}) plans as a run does and counts what it would ask the kernel to
 * merge, but merges nothing and writes no hash file.
 *
 * <p>Concurrency with other processes: before each merge, the {@link Guard} is asked for the two files; a pool
 * returns its cross-process volume locks there, and a busy volume is skipped rather than waited for.
 *
 * <p>Thread safety: one run at a time per hash file (MVStore locks its file).
 */
public final class Deduplicator {
    /**
     * Initialised on first use only: compart-dedup logs nothing in a normal run, and initialising the logging
     * backend (Logback, when it is on the module path) would cost tens of milliseconds of its start-up.
     */
    private static final class Log {
        static final Logger LOG = LoggerFactory.getLogger(Deduplicator.class);
    }
    private static final int MAX_RUN_BYTES = 16 << 20;
    private static final int READ_BYTES = 4 << 20;
    private static final long PREFETCH_BYTES = 256L << 20;
    private static final int OPEN_FILES = 64;
    private static final long BLOCK_BITS = 40;
    private static final long BLOCK_MASK = (1L << BLOCK_BITS) - 1;

    /** Receives progress while a run goes on (from several threads). */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (phase, done, total) -> {};

        /**
         * @param phase {@code list}, {@code open} (the hash store), {@code map} (FIEMAP and stored hashes),
         *              {@code plan} (each reported once, when done), {@code hash}, {@code dedupe} or {@code save}
         *              (once, when done)
         * @param done  bytes done in this phase
         * @param total bytes in this phase
         */
        void update(String phase, long done, long total);
    }

    /**
     * Locks what a merge changes, so that no other process (the daemon running a pool) works on the same
     * volume meanwhile.
     */
    @FunctionalInterface
    public interface Guard {
        /** Locks nothing. */
        Guard NONE = (source, destination) -> () -> {};

        /**
         * @return a guard that locks the pool volumes ({@link VolumeLocks}) the two files belong to, in a fixed
         *         order, without waiting; a file of no pool needs no lock
         */
        static Guard poolVolumes() {
            Map<Path, Optional<VolumeLocks.Owner>> owners = new ConcurrentHashMap<>();
            Lease none = () -> {};
            return (source, destination) -> {
                // called for every merge: no stream here (files of no pool, the usual case, cost two lookups)
                Optional<VolumeLocks.Owner> a = owners.computeIfAbsent(source, VolumeLocks::ownerOf);
                Optional<VolumeLocks.Owner> b = owners.computeIfAbsent(destination, VolumeLocks::ownerOf);
                if (a.isEmpty() && b.isEmpty()) {
                    return none;
                }
                List<VolumeLocks.Owner> order = Stream.of(a, b).flatMap(Optional::stream).distinct()
                        .sorted(Comparator.comparing(VolumeLocks.Owner::orderKey)).toList();
                List<VolumeLocks.Held> held = new ArrayList<>();
                for (VolumeLocks.Owner o : order) {
                    VolumeLocks.Held h = VolumeLocks.of(o.poolDir()).tryLock(o.vid());
                    if (h == null) {
                        held.reversed().forEach(VolumeLocks.Held::close);
                        return null;
                    }
                    held.add(h);
                }
                return () -> held.reversed().forEach(VolumeLocks.Held::close);
            };
        }

        /**
         * Tries to lock what a merge from {@code source} into {@code destination} needs, without waiting.
         *
         * @return the held locks, to close after the merge, or null when something is busy (the merge is skipped)
         */
        Lease tryLock(Path source, Path destination);
    }

    /** Locks held for one merge. */
    @FunctionalInterface
    public interface Lease extends AutoCloseable {
        @Override
        void close();
    }

    private final DedupOptions options;
    private final Progress progress;
    private final Guard guard;

    /** Deduplicates with {@link Guard#poolVolumes()}: files of a pool are merged only while their volumes are free. */
    public Deduplicator(DedupOptions options, Progress progress) {
        this(options, progress, Guard.poolVolumes());
    }

    /** @param guard locks taken around each merge (see {@link Guard}) */
    public Deduplicator(DedupOptions options, Progress progress, Guard guard) {
        this.options = options;
        this.progress = progress;
        this.guard = guard;
    }

    /**
     * Deduplicates the regular files under {@code roots} (files or directories, not following symlinks).
     *
     * @throws CompartException NOT_FOUND for a missing root, STORAGE when the filesystem cannot dedupe
     */
    public DedupReport run(List<Path> roots) {
        long t0 = System.nanoTime();
        List<Path> absRoots = roots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
        // The hash store opens on a thread of its own while the files are listed and mapped. FIEMAP waits for
        // the filesystem's extent and reference-count trees, cold after a while: the files are mapped on several
        // threads at once. Every file is flushed first (FIEMAP_FLAG_SYNC, nearly free for a clean file): data
        // not yet written back is not where FIEMAP says — a delayed allocation has no place yet, and a block
        // written over a shared extent will move when copied on write.
        boolean fresh = options.hashFile() == null || !Files.exists(options.hashFile());
        FutureTask<MVStore> opening = new FutureTask<>(this::openStore);
        Thread.ofPlatform().daemon().name("dedup-store").start(opening);
        List<FileState> files;
        AtomicBoolean stopPrefetch = new AtomicBoolean();
        Thread prefetching = null;
        try {
            files = listFiles(absRoots);
            progress.update("list", 1, 1);
            List<FileState> listed = files;
            prefetching = Thread.ofPlatform().daemon().name("dedup-prefetch")
                    .start(() -> prefetch(listed, opening, fresh, stopPrefetch));
            long maxHeap = Runtime.getRuntime().maxMemory();
            AtomicLong dataBlocks = new AtomicLong();
            inParallel(files.size(), i -> files.get(i).map(dataBlocks, maxHeap / 2 / BYTES_PER_BLOCK));
            checkMemory(dataBlocks.get(), maxHeap);
            files.forEach(FileState::allocate);
        } catch (RuntimeException | Error e) {
            try {
                storeOf(opening).close();
            } catch (RuntimeException ignored) {
                // the first failure is the one to report
            }
            stopPrefetch.set(true);
            throw e;
        }
        try (MVStore store = storeOf(opening)) {
            progress.update("open", 1, 1);
            Stored stored = new Stored(store, !options.dryRun());
            inParallel(files.size(), i -> {
                FileState f = files.get(i);
                long[] known = stored.stats.get(f.key);
                f.statChanged = known == null || !Arrays.equals(known, f.stat);
                f.trust(f.statChanged, stored.blocks.get(f.key), stored.hashes.get(f.key), stored.layouts.get(f.key));
            });
            progress.update("map", 1, 1);
            long[] aliases = planReads(files);
            stopPrefetch.set(true);
            joinQuietly(prefetching);
            progress.update("plan", 1, 1);
            long[] counters;
            long scanned;
            try (Merger merger = new Merger(files)) {
                scanned = readHashAndMerge(files, aliases, merger);
                counters = new long[] {merger.deduped, merger.skipped};
            }
            long reread = 0;
            for (FileState f : files) {
                reread += f.toRead.isEmpty() ? 0 : 1;
                if (!options.dryRun() && (f.statChanged || f.touched || !f.fresh.isEmpty())) {
                    stored.put(f);
                }
            }
            if (!options.dryRun()) {
                stored.forgetVanished(absRoots, files);
                store.commit();
            }
            progress.update("save", 1, 1);
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new DedupReport(files.size(), reread, scanned, counters[0], counters[1], seconds);
        }
    }

    /** Runs {@code task} for 0..n-1 on up to {@link DedupOptions#threads()} threads; the first failure is thrown. */
    private void inParallel(int n, IntConsumer task) {
        int workers = Math.min(options.threads(), n);
        if (workers <= 1) {
            for (int i = 0; i < n; i++) {
                task.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(workers,
                Thread.ofPlatform().name("dedup-map-", 0).daemon().factory())) {
            for (int w = 0; w < workers; w++) {
                pool.execute(() -> {
                    for (int i = next.getAndIncrement(); i < n && failure.get() == null; i = next.getAndIncrement()) {
                        try {
                            task.accept(i);
                        } catch (RuntimeException e) {
                            failure.compareAndSet(null, e);
                        }
                    }
                });
            }
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    /**
     * Reads into the page cache, and drops, what the run will surely read, while what comes first goes on without
     * it: on a cold start, linking the native calls, opening the hash store and mapping the files take about
     * 100 ms, as long as reading 250 MiB. What it reads: the blocks of files changed in place that were not
     * shared at the last run (they may have been written in place, so they are reread), then the files the
     * store does not know yet, in the order the run reads them (a few MiB of each file in turn). At most
     * {@value #PREFETCH_BYTES} bytes; stops as soon as the run starts reading, so what it reads for nothing
     * (the blocks of a new file that turn out to be a snapshot's) is bounded by that time.
     *
     * @param fresh whether there is no hash store yet (every file is new: no need to wait for the store)
     */
    private void prefetch(List<FileState> files, FutureTask<MVStore> opening, boolean fresh,
                          AtomicBoolean stop) {
        int bs = options.blockSize();
        int perRead = Math.max(1, READ_BYTES / bs);
        List<long[]> ranges = new ArrayList<>(); // {file, first block, end block}
        List<FileState> unknown = new ArrayList<>();
        long budget = PREFETCH_BYTES;
        try {
            Stored stored = fresh ? null : new Stored(opening.get(), false);
            for (FileState f : files) {
                long[] known = stored == null ? null : stored.stats.get(f.key);
                if (known == null) {
                    unknown.add(f);
                    continue;
                }
                // only a file changed in place (same inode): a file replaced by another — as Qubes does at a
                // qube's stop, by a clone of the old one — shares what it kept and would be read for nothing
                boolean inPlace = known[0] == f.stat[0] && !Arrays.equals(known, f.stat);
                long[] layout = inPlace ? stored.layouts.get(f.key) : null;
                DataBlocks was = layout == null ? null : stored.blocksOf(f.key, bs);
                if (was == null || was.count() != layout.length) {
                    continue;
                }
                long apparent = f.stat[1] / bs;
                for (int s = 0; s < layout.length && budget > 0; s++) {
                    if (layout[s] >= 0 && !BlockLayout.shared(layout[s]) && was.block(s) < apparent) {
                        int end = s + 1;
                        int runEnd = was.runEnd(s);
                        while (end < runEnd && end - s < perRead && layout[end] >= 0 && !BlockLayout.shared(layout[end])
                                && was.block(end) < apparent) {
                            end++;
                        }
                        ranges.add(new long[] {f.index, was.block(s), was.block(s) + end - s});
                        budget -= (long) (end - s) * bs;
                        s = end - 1;
                    }
                }
            }
        } catch (Exception e) {
            return; // only a read-ahead: the run reports its own failures
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(perRead * bs);
        Map<Integer, FileChannel> open = new HashMap<>();
        try {
            for (long[] r : ranges) {
                if (!readAhead(files, open, buf, r[0], r[1], r[2], stop)) {
                    return;
                }
            }
            // the unknown files, in the order the run reads them: a few MiB of each file's data in turn. A file not
            // mapped yet is read from its start as if it had no holes (a hole costs no disk read): at a cold
            // start, the first FIEMAP waits some 100 ms for the native calls to be linked, time to read 200 MiB
            boolean more = true;
            for (int s = 0; more && budget > 0; s += perRead) {
                more = false;
                for (int i = 0; i < unknown.size() && budget > 0; i++) {
                    FileState f = unknown.get(i);
                    DataBlocks d = f.blocks;
                    int n = d != null ? d.count() : (int) Math.min(Integer.MAX_VALUE, f.stat[1] / bs);
                    int end = Math.min(n, s + perRead);
                    for (int from = s; from < end; ) {
                        int to = d != null ? Math.min(end, d.runEnd(from)) : end;
                        long first = d != null ? d.block(from) : from;
                        if (!readAhead(files, open, buf, f.index, first, first + to - from, stop)) {
                            return;
                        }
                        from = to;
                    }
                    budget -= (long) Math.max(0, end - s) * bs;
                    more |= end < n;
                }
            }
        } catch (IOException | RuntimeException e) {
            // only a read-ahead
        } finally {
            for (FileChannel ch : open.values()) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // read-only
                }
            }
        }
    }

    /** Reads blocks [from, to) of file {@code index} for nothing. @return false when the run asked to stop */
    private boolean readAhead(List<FileState> files, Map<Integer, FileChannel> open, ByteBuffer buf, long index,
                              long from, long to, AtomicBoolean stop) throws IOException {
        if (stop.get()) {
            return false;
        }
        FileChannel ch = open.get((int) index);
        if (ch == null) {
            ch = FileChannel.open(files.get((int) index).path, StandardOpenOption.READ);
            open.put((int) index, ch);
        }
        buf.clear().limit((int) (to - from) * options.blockSize());
        ch.read(buf, from * options.blockSize());
        return true;
    }

    private static void joinQuietly(Thread t) {
        if (t == null) {
            return;
        }
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static MVStore storeOf(FutureTask<MVStore> opening) {
        try {
            return opening.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof CompartException ce ? ce
                    : new CompartException(ErrorKind.STORAGE, "cannot open the dedup hash file: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompartException(ErrorKind.STORAGE, "interrupted while opening the dedup hash file", e);
        }
    }

    private MVStore openStore() {
        Path f = options.hashFile();
        if (f == null || (options.dryRun() && !Files.exists(f))) {
            return new MVStore.Builder().open();
        }
        if (options.dryRun()) { // read only: whether the store was made by format 1 or 2, opened as it is
            try {
                return new MVStore.Builder().fileName(f.toString()).readOnly().open();
            } catch (RuntimeException e) {
                throw new CompartException(ErrorKind.STORAGE, "cannot open the dedup hash file " + f + ": "
                        + e.getMessage(), e);
            }
        }
        try {
            Path parent = f.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            return new MVStore.Builder().fileName(f.toString()).autoCommitDisabled().open();
        } catch (IOException | RuntimeException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot open the dedup hash file " + f + ": " + e.getMessage()
                    + " (is another compart-dedup using it?)", e);
        }
    }

    // ---- listing ----

    private List<FileState> listFiles(List<Path> roots) {
        TreeSet<Path> paths = new TreeSet<>();
        Path hashFile = options.hashFile() == null ? null : options.hashFile().toAbsolutePath().normalize();
        for (Path root : roots) {
            if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
                throw CompartException.notFound("%s does not exist", root);
            }
            try (Stream<Path> walk = Files.walk(root)) {
                walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                        .filter(p -> hashFile == null || !p.startsWith(hashFile.getParent())
                                || !p.getFileName().toString().startsWith(hashFile.getFileName().toString()))
                        .forEach(paths::add);
            } catch (IOException e) {
                throw new CompartException(ErrorKind.STORAGE, "cannot list files under " + root + ": " + e, e);
            }
        }
        List<FileState> out = new ArrayList<>(paths.size());
        for (Path p : paths) {
            out.add(new FileState(out.size(), p, stat(p), options.blockSize()));
        }
        return out;
    }

    /**
     * Heap per data block, at the peak of a run: its hash and place (24 bytes), its share of the table of
     * canonical blocks (36) and of the aliases (16), the bits of the plan, with room for the stored copies read
     * and written one file at a time. Holes cost nothing.
     */
    static final int BYTES_PER_BLOCK = 96;

    /**
     * The block tables follow the files' data blocks, as FIEMAP maps them (a sparse 10 GiB volatile volume
     * holding 50 MiB counts 50 MiB): a run that could not hold them is refused before it starts, saying what
     * to change, instead of failing midway with OutOfMemoryError.
     *
     * @param blocks the data blocks of all the files
     * @throws CompartException INVALID_VALUE when {@code blocks} need more than half of {@code maxHeap}
     */
    void checkMemory(long blocks, long maxHeap) {
        long needed = blocks * BYTES_PER_BLOCK;
        if (needed > maxHeap / 2) {
            long suggested = Long.highestOneBit(Math.max(options.blockSize(),
                    options.blockSize() * (needed / (maxHeap / 4) + 1)) * 2 - 1);
            throw CompartException.invalidValue("deduplicating %d blocks of %d bytes (the files' allocated data; "
                    + "holes do not count) needs about %d MiB of memory, and this run may use %d MiB: use "
                    + "a larger --block-size (%d would fit) or give it more memory (COMPART_JAVA_OPTS=-Xmx...)",
                    blocks, options.blockSize(), needed >> 20, maxHeap >> 20, suggested);
        }
    }

    private static long[] stat(Path p) {
        try {
            Map<String, Object> a = Files.readAttributes(p, "unix:ino,size,lastModifiedTime,ctime", LinkOption.NOFOLLOW_LINKS);
            return new long[] {(Long) a.get("ino"), (Long) a.get("size"),
                    ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS),
                    ((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS)};
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot stat " + p + ": " + e, e);
        }
    }

    /**
     * The hash file's records, one per file path, of data blocks only (format 2; the records of format 1, one
     * entry per block of the apparent size, are dropped: an old hash file only means that everything is reread):
     * {@code files.2} its identity (inode, size, mtime, ctime), {@code blocks.2} the block size then the runs of
     * data blocks ({@link DataBlocks#encode}), {@code hashes.2} 16 bytes per data block (zero: unknown),
     * {@code layout.2} each data block's place ({@link BlockLayout}).
     */
    private static final class Stored {
        final MVMap<String, long[]> stats;
        final MVMap<String, long[]> blocks;
        final MVMap<String, byte[]> hashes;
        final MVMap<String, long[]> layouts;

        /** @param writable whether this run writes the store: then the records of format 1 are dropped */
        Stored(MVStore store, boolean writable) {
            if (writable) {
                for (String old : List.of("files", "hashes", "layout")) {
                    if (store.hasMap(old)) {
                        store.removeMap(old);
                    }
                }
            }
            stats = store.openMap("files.2");
            blocks = store.openMap("blocks.2");
            hashes = store.openMap("hashes.2");
            layouts = store.openMap("layout.2");
        }

        /** @return the stored data blocks of {@code key}, or null when there are none of this block size */
        DataBlocks blocksOf(String key, int blockSize) {
            long[] runs = blocks.get(key);
            return runs == null || runs.length < 1 || runs[0] != blockSize ? null : DataBlocks.decode(runs, 1);
        }

        void put(FileState f) {
            stats.put(f.key, f.stat);
            blocks.put(f.key, f.blocks.encode(f.blockSize));
            hashes.put(f.key, f.hashBytes());
            layouts.put(f.key, f.phys);
        }

        void forgetVanished(List<Path> roots, List<FileState> seen) {
            Set<String> keys = new HashSet<>();
            seen.forEach(f -> keys.add(f.key));
            for (String k : new ArrayList<>(stats.keySet())) {
                Path p = Path.of(k);
                if (!keys.contains(k) && roots.stream().anyMatch(p::startsWith)) {
                    stats.remove(k);
                    blocks.remove(k);
                    hashes.remove(k);
                    layouts.remove(k);
                }
            }
        }
    }

    // ---- planning and hashing ----

    /**
     * Decides which blocks to read: those with no trusted hash and no shared place already covered by another
     * block. @return the aliases found, as pairs of locations {to, from, to, from...}
     */
    private static long[] planReads(List<FileState> files) {
        long sharedBlocks = 0;
        for (FileState f : files) {
            for (long p : f.phys) {
                sharedBlocks += BlockLayout.shared(p) ? 1 : 0;
            }
        }
        SharedPlaces atPlace = new SharedPlaces(sharedBlocks);
        for (FileState f : files) {
            for (int b = f.known.nextSetBit(0); b >= 0; b = f.known.nextSetBit(b + 1)) {
                if (BlockLayout.shared(f.phys[b])) {
                    atPlace.putIfAbsent(BlockLayout.address(f.phys[b]), location(f.index, b));
                }
            }
        }
        long[] aliases = new long[16];
        int n = 0;
        for (FileState f : files) {
            for (int b = 0; b < f.phys.length; b++) {
                if (f.known.get(b)) {
                    continue;
                }
                if (BlockLayout.shared(f.phys[b])) {
                    long first = atPlace.putIfAbsent(BlockLayout.address(f.phys[b]), location(f.index, b));
                    if (first >= 0) {
                        if (n == aliases.length) {
                            aliases = Arrays.copyOf(aliases, 2 * n);
                        }
                        aliases[n++] = location(f.index, b);
                        aliases[n++] = first;
                        continue;
                    }
                }
                f.toRead.set(b);
            }
        }
        return Arrays.copyOf(aliases, n);
    }

    /**
     * Reads the planned blocks in chunks of up to {@value #READ_BYTES} bytes, in file order, with
     * {@link DedupOptions#threads()} threads that each read a chunk and hash it (several reads in flight keep a
     * virtual disk busy, and hashing overlaps reading), while this thread merges the chunks already hashed, in
     * chunk order, so that merging overlaps reading too instead of following it.
     *
     * <p>The canonical block of a hash must be chosen among all candidates of the best rank (see
     * {@link Merger}), and only blocks at a shared place can outrank a block read in this run: so the chunks
     * holding such blocks are read first, and merging starts only when they, the blocks known from the last run
     * and the aliases are all registered. Every later chunk holds only unshared blocks read in this run, whose
     * canonical is the first one seen.
     *
     * @return bytes read
     */
    private long readHashAndMerge(List<FileState> files, long[] aliases, Merger merger) {
        int bs = options.blockSize();
        int perRead = Math.max(1, READ_BYTES / bs);
        List<int[]> early = new ArrayList<>(); // {file, first slot, end slot}, of consecutive blocks
        List<int[]> later = new ArrayList<>();
        for (FileState f : files) {
            for (int b = f.toRead.nextSetBit(0); b >= 0; ) {
                int end = b + 1;
                int runEnd = f.blocks.runEnd(b);
                boolean shared = BlockLayout.shared(f.phys[b]);
                while (end < runEnd && end - b < perRead && f.toRead.get(end)) {
                    shared |= BlockLayout.shared(f.phys[end]);
                    end++;
                }
                (shared ? early : later).add(new int[] {f.index, b, end});
                b = f.toRead.nextSetBit(end);
            }
        }
        // Later chunks go round the files (the first chunk of each file, then the second...): the thread merging
        // into one file then rarely waits for, or holds up, a read of the same file (a merge locks its
        // destination), and the canonical blocks a merge compares with were read just before.
        later.sort(Comparator.<int[]>comparingInt(c -> c[1]).thenComparingInt(c -> c[0]));
        List<int[]> chunks = new ArrayList<>(early);
        chunks.addAll(later);
        for (int[] c : later) {
            files.get(c[0]).streamed.set(c[1], c[2]);
        }
        Reading reading = new Reading(files, chunks);
        int workers = Math.min(options.threads(), chunks.size());
        try (ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, workers),
                Thread.ofPlatform().name("dedup-read-", 0).daemon().factory())) {
            for (int w = 0; w < workers; w++) {
                pool.execute(reading::work);
            }
            try {
                reading.await(early.size());
                for (int i = 0; i < aliases.length; i += 2) {
                    FileState to = file(files, aliases[i]);
                    FileState from = file(files, aliases[i + 1]);
                    int tb = block(aliases[i]);
                    int fb = block(aliases[i + 1]);
                    if (from.isKnown(fb)) {
                        to.setHash(tb, from.hi[fb], from.lo[fb], from.isFresh(fb));
                    }
                }
                merger.mergeKnown();
                for (int i = early.size(); i < chunks.size(); i++) {
                    reading.await(i + 1);
                    int[] c = chunks.get(i);
                    merger.mergeChunk(files.get(c[0]), c[1], c[2]);
                }
                merger.finish();
            } catch (RuntimeException | Error e) {
                reading.stop(e);
                throw e;
            }
        }
        reading.rethrow();
        progress.update("hash", 1, 1);
        return reading.read.get();
    }

    /** The reading threads' shared state: the next chunk to read, which chunks are hashed, the first failure. */
    private final class Reading {
        private final List<FileState> files;
        private final List<int[]> chunks;
        private final long total;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicLong done = new AtomicLong();
        final AtomicLong read = new AtomicLong();
        /** guarded by this */
        private final BitSet hashed = new BitSet();
        /** guarded by this */
        private int hashedPrefix;
        private volatile Throwable failure;

        Reading(List<FileState> files, List<int[]> chunks) {
            this.files = files;
            this.chunks = chunks;
            this.total = chunks.stream().mapToLong(c -> (long) (c[2] - c[1]) * options.blockSize()).sum();
        }

        /** Waits until the first {@code n} chunks are hashed (or reading failed). */
        synchronized void await(int n) {
            while (hashedPrefix < n && failure == null) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CompartException(ErrorKind.STORAGE, "dedup interrupted while reading", e);
                }
            }
            rethrow();
        }

        private synchronized void hashed(int i) {
            hashed.set(i);
            if (i == hashedPrefix) {
                hashedPrefix = hashed.nextClearBit(i);
                notifyAll();
            }
        }

        synchronized void stop(Throwable t) {
            if (failure == null) {
                failure = t;
            }
            notifyAll();
        }

        void rethrow() {
            Throwable t = failure;
            if (t != null) {
                throw t instanceof CompartException ce ? ce
                        : new CompartException(ErrorKind.STORAGE, "hashing failed: " + t, t);
            }
        }

        void work() {
            int bs = options.blockSize();
            ByteBuffer buf = ByteBuffer.allocateDirect(Math.max(1, READ_BYTES / bs) * bs);
            long[] scratch = new long[bs / 8];
            long[] h = new long[2];
            FileChannel ch = null;
            int open = -1;
            try {
                for (int i = next.getAndIncrement(); i < chunks.size() && failure == null; i = next.getAndIncrement()) {
                    int[] c = chunks.get(i);
                    FileState f = files.get(c[0]);
                    if (open != c[0]) {
                        if (ch != null) {
                            ch.close();
                        }
                        ch = FileChannel.open(f.path, StandardOpenOption.READ);
                        open = c[0];
                    }
                    buf.clear().limit((c[2] - c[1]) * bs);
                    long off = f.blocks.block(c[1]) * bs;
                    while (buf.hasRemaining() && ch.read(buf, off + buf.position()) >= 0) {
                        // read until full or end of file
                    }
                    int got = buf.position() / bs;
                    for (int k = 0; k < got; k++) {
                        buf.limit((k + 1) * bs).position(k * bs);
                        BlockHash.hash(buf, scratch, h);
                        f.setHash(c[1] + k, h[0], h[0] == 0 && h[1] == 0 ? 1 : h[1], true);
                    }
                    read.addAndGet((long) got * bs);
                    hashed(i);
                    progress.update("hash", done.addAndGet((long) (c[2] - c[1]) * bs), total);
                }
            } catch (Throwable t) {
                stop(t instanceof IOException
                        ? new CompartException(ErrorKind.STORAGE, "cannot read " + files.get(open).path + ": " + t, t)
                        : t);
            } finally {
                if (ch != null) {
                    try {
                        ch.close();
                    } catch (IOException ignored) {
                        // read-only
                    }
                }
            }
        }
    }

    // ---- merging ----

    /**
     * Merges blocks into their canonical copy, on one thread. The canonical copy of a hash is preferably a block
     * the last run kept (so it is the one the others were merged into), then one already shared (a snapshot's),
     * then the first seen; merging into it never undoes existing sharing. Consecutive blocks go to the kernel as
     * one range.
     */
    private final class Merger implements AutoCloseable {
        private final CanonicalBlocks canonical;
        private final List<FileState> files;
        private final OpenFiles open = new OpenFiles();
        private final long total;
        private long done;
        private Run run;
        long deduped;
        long skipped;

        Merger(List<FileState> files) {
            this.files = files;
            long blocks = files.stream().mapToLong(f -> f.phys.length).sum();
            this.total = blocks * options.blockSize();
            this.canonical = new CanonicalBlocks(blocks);
        }

        /**
         * Registers and merges every block known now except those of the chunks still to stream: the blocks
         * known from the last run, the aliases and the blocks at shared places (all chunks holding such blocks
         * are hashed before this is called).
         */
        void mergeKnown() {
            for (FileState f : files) {
                for (int b = f.nextKnown(0); b >= 0; b = f.nextKnown(b + 1)) {
                    if (f.streamed.get(b)) {
                        continue;
                    }
                    int r = !f.isFresh(b) ? 2 : BlockLayout.shared(f.phys[b]) ? 1 : 0;
                    canonical.offer(f.hi[b], f.lo[b], location(f.index, b), r);
                }
            }
            for (FileState f : files) {
                for (int b = f.nextKnown(0); b >= 0; b = f.nextKnown(b + 1)) {
                    if (!f.streamed.get(b)) {
                        offer(f, b);
                    }
                }
            }
        }

        /** Merges the blocks [from, to) of {@code f}, just read: unshared, so each is canonical if first seen. */
        void mergeChunk(FileState f, int from, int to) {
            for (int b = from; b < to; b++) {
                if (f.isKnown(b)) {
                    offer(f, b);
                }
            }
            done += (long) (to - from) * options.blockSize();
            progress.update("dedupe", Math.min(done, total), total);
        }

        void finish() {
            if (run != null) {
                deduped += flush(run);
                run = null;
            }
            progress.update("dedupe", total, total);
        }

        private void offer(FileState f, int b) {
            int bs = options.blockSize();
            long self = location(f.index, b);
            long loc = canonical.putIfAbsent(f.hi[b], f.lo[b], self);
            if (loc == self) {
                return;
            }
            FileState cf = file(files, loc);
            int cb = block(loc);
            if (!f.isFresh(b) && !cf.isFresh(cb)) {
                return; // both known from the last run, which merged them already
            }
            if (BlockLayout.samePlace(f.phys[b], cf.phys[cb])) {
                skipped += bs;
                return;
            }
            if (run != null && run.extend(cf, cb, f, b, bs)) {
                return;
            }
            if (run != null) {
                deduped += flush(run);
            }
            run = new Run(cf, cb, f, b);
        }

        private long flush(Run run) {
            int bs = options.blockSize();
            if (options.dryRun()) { // what would be asked of the kernel; it would compare every byte first
                run.merged(0, run.blocks);
                return (long) run.blocks * bs;
            }
            try (Lease lease = guard.tryLock(run.src.path, run.dst.path)) {
                if (lease == null) {
                    Log.LOG.info("skipped merging {} blocks into {}: its volume is busy", run.blocks, run.dst.path);
                    return 0;
                }
                LinuxFile src = open.get(run.src.path, LinuxFile.Mode.READ);
                LinuxFile dst = open.get(run.dst.path, LinuxFile.Mode.READ_WRITE);
                run.src.touched = true;
                run.dst.touched = true;
                DedupeOutcome o = src.dedupeTo(run.srcBlock * bs, (long) run.blocks * bs,
                        List.of(new DedupeTarget(dst, run.dstBlock * bs))).getFirst();
                if (o.status() == DedupeOutcome.Status.SAME && o.bytesDeduped() == (long) run.blocks * bs) {
                    run.merged(0, run.blocks);
                    return o.bytesDeduped();
                }
                if (o.status() == DedupeOutcome.Status.ERROR) {
                    Log.LOG.warn("FIDEDUPERANGE {} -> {} refused: {}", run.src.path, run.dst.path, o.errorText());
                }
                // part of the run differs (a stale hash or a collision) or was only partly merged: go block by block
                long sum = o.status() == DedupeOutcome.Status.SAME ? o.bytesDeduped() : 0;
                int firstBlock = (int) (sum / bs);
                run.merged(0, firstBlock);
                for (int i = firstBlock; i < run.blocks; i++) {
                    DedupeOutcome one = src.dedupeTo((run.srcBlock + i) * bs, bs,
                            List.of(new DedupeTarget(dst, (run.dstBlock + i) * bs))).getFirst();
                    if (one.status() == DedupeOutcome.Status.SAME) {
                        sum += one.bytesDeduped();
                        run.merged(i, i + 1);
                    } else if (one.status() == DedupeOutcome.Status.DIFFERS) {
                        int ds = run.dstSlot + i;
                        canonical.put(run.dst.hi[ds], run.dst.lo[ds], location(run.dst.index, ds));
                        if (!run.src.isFresh(run.srcSlot + i)) {
                            run.src.stale.set(run.srcSlot + i); // its kept hash is out of date: reread it next time
                        }
                    }
                }
                return sum;
            }
        }

        @Override
        public void close() {
            open.close();
        }
    }

    private static long location(int file, int block) {
        return ((long) file << BLOCK_BITS) | block;
    }

    private static FileState file(List<FileState> files, long location) {
        return files.get((int) (location >>> BLOCK_BITS));
    }

    private static int block(long location) {
        return (int) (location & BLOCK_MASK);
    }

    /**
     * Consecutive blocks of {@code dst} equal to consecutive blocks of {@code src}: consecutive data blocks
     * (slots) within one run of consecutive block numbers of each file.
     */
    private static final class Run {
        final FileState src;
        final int srcSlot;
        final long srcBlock;
        final int srcEnd;
        final FileState dst;
        final int dstSlot;
        final long dstBlock;
        final int dstEnd;
        int blocks = 1;

        Run(FileState src, int srcSlot, FileState dst, int dstSlot) {
            this.src = src;
            this.srcSlot = srcSlot;
            this.srcBlock = src.blocks.block(srcSlot);
            this.srcEnd = src.blocks.runEnd(srcSlot);
            this.dst = dst;
            this.dstSlot = dstSlot;
            this.dstBlock = dst.blocks.block(dstSlot);
            this.dstEnd = dst.blocks.runEnd(dstSlot);
        }

        boolean extend(FileState s, int ss, FileState d, int ds, int bs) {
            int n = blocks + 1;
            boolean overlaps = s == d && dstBlock < srcBlock + n && srcBlock < dstBlock + n;
            if (s == src && d == dst && ss == srcSlot + blocks && ds == dstSlot + blocks && ss < srcEnd
                    && ds < dstEnd && (long) n * bs <= MAX_RUN_BYTES && !overlaps) {
                blocks = n;
                return true;
            }
            return false;
        }

        /** Records that blocks [from, to) of the run now share the source's storage. */
        void merged(int from, int to) {
            for (int i = from; i < to; i++) {
                long p = src.phys[srcSlot + i];
                if (p >= 0) {
                    src.phys[srcSlot + i] = p | 1;
                }
                dst.phys[dstSlot + i] = p >= 0 ? p | 1 : BlockLayout.NONE;
            }
        }
    }

    private record OpenKey(Path path, LinuxFile.Mode mode) {}

    /** A small cache of open descriptors, closing the least recently used. */
    private static final class OpenFiles extends LinkedHashMap<OpenKey, LinuxFile> implements AutoCloseable {
        OpenFiles() {
            super(16, 0.75f, true);
        }

        LinuxFile get(Path p, LinuxFile.Mode mode) {
            return computeIfAbsent(new OpenKey(p, mode), k -> LinuxFile.open(p, mode));
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<OpenKey, LinuxFile> eldest) {
            if (size() > OPEN_FILES) {
                eldest.getValue().close();
                return true;
            }
            return false;
        }

        @Override
        public void close() {
            values().forEach(LinuxFile::close);
            clear();
        }
    }

    /**
     * One file of the run: its identity, its data blocks, their hashes and places, and what this run does with
     * each. Every table and bit set is indexed by slot (the data blocks numbered in file order, see
     * {@link DataBlocks}): holes cost nothing.
     */
    private static final class FileState {
        final int index;
        final Path path;
        final String key;
        final int blockSize;
        final long[] stat;
        /** set by {@link #map} (volatile: the read-ahead looks at it while the files are mapped) */
        volatile DataBlocks blocks;
        /** set by {@link #map} when it fits, and {@link #allocate} */
        long[] phys;
        long[] hi;
        long[] lo;
        /** blocks whose hash is known */
        final BitSet known = new BitSet();
        /** blocks hashed from data read in this run (or aliases of such blocks) */
        final BitSet fresh = new BitSet();
        final BitSet toRead = new BitSet();
        /** blocks of the chunks merged as they are read (see readHashAndMerge); set before reading starts */
        final BitSet streamed = new BitSet();
        /** blocks whose kept hash proved out of date: not saved, so the next run rereads them */
        final BitSet stale = new BitSet();
        boolean statChanged;
        boolean touched;

        FileState(int index, Path path, long[] stat, int blockSize) {
            this.index = index;
            this.path = path;
            this.key = path.toString();
            this.stat = stat;
            this.blockSize = blockSize;
        }

        /**
         * Maps the file's data blocks and their places, after writing back what is dirty. The places are
         * allocated only while all files mapped so far fit in {@code fitting} blocks (the run is refused
         * otherwise, see {@link #checkMemory}).
         *
         * @param counted the data blocks of the files mapped so far, to which this file's are added
         */
        void map(AtomicLong counted, long fitting) {
            try (LinuxFile f = LinuxFile.open(path, LinuxFile.Mode.READ)) {
                List<Extent> extents = f.extents(0, Long.MAX_VALUE, true);
                DataBlocks d = DataBlocks.of(extents, blockSize, stat[1] / blockSize);
                if (counted.addAndGet(d.count()) <= fitting) {
                    phys = BlockLayout.places(extents, blockSize, d);
                }
                blocks = d;
            }
        }

        /** Allocates the per-block tables, once the run is known to fit. */
        void allocate() {
            int n = blocks.count();
            if (phys == null) {
                throw new IllegalStateException("places of " + path + " not mapped");
            }
            hi = new long[n];
            lo = new long[n];
        }

        /**
         * Takes the stored hashes that are still valid (see the class comment) of the blocks that hold data both
         * now and in the stored record (a grown image keeps what it had).
         *
         * @param storedBlocks the block size and the runs of data blocks of the stored record ({@link Stored})
         */
        void trust(boolean changed, long[] storedBlocks, byte[] storedHashes, long[] storedLayout) {
            if (storedBlocks == null || storedBlocks.length < 1 || storedBlocks[0] != blockSize || storedHashes == null) {
                return;
            }
            DataBlocks stored = DataBlocks.decode(storedBlocks, 1);
            if (stored == null || storedHashes.length != 16L * stored.count()
                    || (changed && (storedLayout == null || storedLayout.length != stored.count()))) {
                return;
            }
            ByteBuffer bb = ByteBuffer.wrap(storedHashes);
            blocks.common(stored, (here, there, length) -> {
                for (int k = 0; k < length; k++) {
                    int b = here + k;
                    int t = there + k;
                    long h = bb.getLong(16 * t);
                    long l = bb.getLong(16 * t + 8);
                    if (h == 0 && l == 0) {
                        continue;
                    }
                    if (!changed || (BlockLayout.shared(storedLayout[t]) && BlockLayout.shared(phys[b])
                            && BlockLayout.samePlace(storedLayout[t], phys[b]))) {
                        setHash(b, h, l, false);
                    }
                }
            });
        }

        synchronized boolean isKnown(int b) {
            return known.get(b);
        }

        synchronized boolean isFresh(int b) {
            return fresh.get(b);
        }

        synchronized int nextKnown(int from) {
            return known.nextSetBit(from);
        }

        synchronized void setHash(int b, long h, long l, boolean isFresh) {
            hi[b] = h;
            lo[b] = l;
            known.set(b);
            if (isFresh) {
                fresh.set(b);
            }
        }

        byte[] hashBytes() {
            ByteBuffer bb = ByteBuffer.allocate(16 * hi.length);
            for (int b = 0; b < hi.length; b++) {
                boolean keep = known.get(b) && !stale.get(b);
                bb.putLong(keep ? hi[b] : 0).putLong(keep ? lo[b] : 0);
            }
            return bb.array();
        }
    }
}
