package compart.volumes.dedup;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshot-aware block deduplication of the regular files under some paths, in place.
 *
 * <p>Design. (1) Every file is split into fixed blocks ({@link DedupOptions#blockSize()}); a file whose inode,
 * size, mtime and ctime match the hash store keeps its stored block hashes, the others are read and hashed in
 * parallel ({@link BlockHash}), skipping holes, and reading a block that shares its physical location with
 * one already hashed in this run only once (FIEMAP) — so snapshots and clones are not reread. (2) Blocks are
 * then grouped by hash; the first block seen is canonical; a later block that already lives at the canonical
 * block's physical location is counted as already shared and left alone; the others are merged with
 * FIDEDUPERANGE in runs of consecutive blocks, which the kernel compares byte by byte, so contents cannot
 * change (a stale hash or a collision only costs a refused merge). (3) Hashes and file identities are saved in an
 * H2 MVStore, so the next run rereads only new or changed files and merges only their blocks.
 *
 * <p>Thread safety: one run at a time per hash file (MVStore locks its file).
 */
public final class Deduplicator {
    private static final Logger LOG = LoggerFactory.getLogger(Deduplicator.class);
    private static final int MAX_RUN_BYTES = 16 << 20;
    private static final int OPEN_FILES = 64;

    /** Receives progress while a run goes on (from several threads). */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (phase, done, total) -> {};

        /** @param phase {@code hash} or {@code dedupe}; {@code done}/{@code total} in bytes */
        void update(String phase, long done, long total);
    }

    private final DedupOptions options;
    private final Progress progress;

    public Deduplicator(DedupOptions options, Progress progress) {
        this.options = options;
        this.progress = progress;
    }

    /**
     * Deduplicates the regular files under {@code roots} (files or directories, not following symlinks).
     *
     * @throws CompartException NOT_FOUND for a missing root, STORAGE when the filesystem cannot dedupe
     */
    public DedupReport run(List<Path> roots) {
        long t0 = System.nanoTime();
        List<Path> absRoots = roots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
        List<FileState> files = listFiles(absRoots);
        try (MVStore store = openStore()) {
            MVMap<String, long[]> stats = store.openMap("files");
            MVMap<String, byte[]> hashes = store.openMap("hashes");
            List<FileState> toHash = new ArrayList<>();
            for (FileState f : files) {
                long[] known = stats.get(f.key);
                byte[] stored = hashes.get(f.key);
                if (known != null && Arrays.equals(known, f.stat) && stored != null
                        && stored.length == 16 * f.blocks()) {
                    f.loadHashes(stored);
                } else {
                    toHash.add(f);
                }
            }
            long scanned = hashAll(toHash);
            long[] counters = dedupe(files);
            for (FileState f : files) {
                if (f.destination) {
                    f.stat = stat(f.path); // dedupe does not change contents; keep the file known as unchanged
                }
                stats.put(f.key, f.stat);
                hashes.put(f.key, f.hashBytes());
            }
            forgetVanished(absRoots, files, stats, hashes);
            store.commit();
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new DedupReport(files.size(), toHash.size(), scanned, counters[0], counters[1], seconds);
        }
    }

    private MVStore openStore() {
        Path f = options.hashFile();
        if (f == null) {
            return new MVStore.Builder().open();
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

    private static void forgetVanished(List<Path> roots, List<FileState> seen, MVMap<String, long[]> stats,
                                       MVMap<String, byte[]> hashes) {
        java.util.Set<String> keys = new java.util.HashSet<>();
        seen.forEach(f -> keys.add(f.key));
        for (String k : new ArrayList<>(stats.keySet())) {
            Path p = Path.of(k);
            if (!keys.contains(k) && roots.stream().anyMatch(p::startsWith)) {
                stats.remove(k);
                hashes.remove(k);
            }
        }
    }

    // ---- hashing ----

    private long hashAll(List<FileState> files) {
        long total = files.stream().mapToLong(f -> f.stat[1]).sum();
        AtomicLong done = new AtomicLong();
        AtomicLong read = new AtomicLong();
        int bs = options.blockSize();
        // Plan first, in one thread: a block stored at a physical location seen before (a snapshot, a clone,
        // an earlier merge) is an alias of that first block and is not read again.
        Map<Long, Long> firstAtPhysical = new HashMap<>();
        List<long[]> aliases = new ArrayList<>();
        for (FileState f : files) {
            f.extents = extents(f.path, true);
            f.clearHashes();
            f.skip = new BitSet();
            for (Extent e : f.extents) {
                if (!e.shared() || e.unknownLocation()) {
                    continue;
                }
                long firstBlock = (e.logical() + bs - 1) / bs;
                for (long b = firstBlock; (b + 1) * bs <= e.end() && b < f.blocks(); b++) {
                    long phys = e.physical() + (b * bs - e.logical());
                    Long first = firstAtPhysical.putIfAbsent(phys, location(f.index, (int) b));
                    if (first != null) {
                        f.skip.set((int) b);
                        aliases.add(new long[] {location(f.index, (int) b), first});
                    }
                }
            }
        }
        int blocksPerTask = Math.max(1, (64 << 20) / bs);
        try (ExecutorService pool = Executors.newFixedThreadPool(options.threads(),
                Thread.ofPlatform().name("dedup-hash-", 0).daemon().factory())) {
            List<Future<?>> tasks = new ArrayList<>();
            for (FileState f : files) {
                for (int b = 0; b < f.blocks(); b += blocksPerTask) {
                    int from = b;
                    int to = Math.min(f.blocks(), b + blocksPerTask);
                    tasks.add(pool.submit(() -> hashRange(f, from, to, done, read, total)));
                }
            }
            for (Future<?> t : tasks) {
                t.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompartException(ErrorKind.STORAGE, "dedup interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof CompartException ce) {
                throw ce;
            }
            throw new CompartException(ErrorKind.STORAGE, "hashing failed: " + e.getCause(), e.getCause());
        }
        for (long[] a : aliases) {
            FileState to = files.get((int) (a[0] >>> 40));
            FileState from = files.get((int) (a[1] >>> 40));
            int tb = (int) (a[0] & ((1L << 40) - 1));
            int fb = (int) (a[1] & ((1L << 40) - 1));
            if (from.hasHash(fb)) {
                to.setHash(tb, from.hi[fb], from.lo[fb]);
            }
        }
        progress.update("hash", total, total);
        return read.get();
    }

    private void hashRange(FileState f, int from, int to, AtomicLong done, AtomicLong read, long total) {
        int bs = options.blockSize();
        int perRead = Math.max(1, (4 << 20) / bs); // read up to 4 MiB at once: the disk prefers large reads
        long[] h = new long[2];
        ByteBuffer buf = ByteBuffer.allocateDirect(perRead * bs);
        try (FileChannel ch = FileChannel.open(f.path, StandardOpenOption.READ)) {
            int b = from;
            while (b < to) {
                if (!wanted(f, b, bs)) {
                    b++;
                    continue; // an alias of a block hashed elsewhere, or a hole
                }
                int end = b + 1;
                while (end < to && end - b < perRead && wanted(f, end, bs)) {
                    end++;
                }
                long off = (long) b * bs;
                buf.clear().limit((end - b) * bs);
                while (buf.hasRemaining()) {
                    if (ch.read(buf, off + buf.position()) < 0) {
                        break;
                    }
                }
                int got = buf.position() / bs;
                for (int i = 0; i < got; i++) {
                    buf.limit((i + 1) * bs).position(i * bs);
                    BlockHash.hash(buf, h);
                    f.setHash(b + i, h[0], h[0] == 0 && h[1] == 0 ? 1 : h[1]);
                }
                read.addAndGet((long) got * bs);
                long d2 = done.addAndGet((long) (end - b) * bs);
                progress.update("hash", d2, total);
                b = end;
            }
        } catch (IOException ex) {
            throw new CompartException(ErrorKind.STORAGE, "cannot read " + f.path + ": " + ex, ex);
        }
    }

    private static boolean wanted(FileState f, int b, int bs) {
        long off = (long) b * bs;
        return !f.skip.get(b) && (f.extentAt(off) != null || f.anyDataIn(off, bs));
    }

    private static List<Extent> extents(Path p, boolean sync) {
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ)) {
            return f.extents(0, Long.MAX_VALUE, sync);
        }
    }

    // ---- merging ----

    /** @return {deduped bytes, skipped already-shared bytes} */
    private long[] dedupe(List<FileState> files) {
        int bs = options.blockSize();
        Map<Hash, Long> canonical = new HashMap<>();
        long deduped = 0;
        long skipped = 0;
        long total = files.stream().mapToLong(f -> (long) f.blocks() * bs).sum();
        long done = 0;
        // The canonical copy of each block: preferably one the last run kept (its file is unchanged), then one
        // already shared (a snapshot's), then the first seen; merging into it never undoes existing sharing.
        Map<Hash, Integer> rank = new HashMap<>();
        for (FileState f : files) {
            for (int b = 0; b < f.blocks(); b++) {
                if (!f.hasHash(b)) {
                    continue;
                }
                Hash h = f.hash(b);
                int r = !f.reread ? 2 : sharedAt(f, b) ? 1 : 0;
                Integer old = rank.get(h);
                if (old == null || r > old) {
                    rank.put(h, r);
                    canonical.put(h, location(f.index, b));
                }
            }
        }
        try (OpenFiles open = new OpenFiles()) {
            Run run = null;
            for (FileState f : files) {
                for (int b = 0; b < f.blocks(); b++) {
                    done += bs;
                    if (!f.hasHash(b)) {
                        continue;
                    }
                    Hash h = f.hash(b);
                    long here = location(f.index, b);
                    Long loc = canonical.get(h);
                    if (loc == here) {
                        continue;
                    }
                    FileState cf = files.get((int) (loc >>> 40));
                    int cb = (int) (loc & ((1L << 40) - 1));
                    if (!f.reread && !cf.reread) {
                        continue; // both unchanged since the last run, which merged them already
                    }
                    long p1 = physical(f, b);
                    if (p1 >= 0 && p1 == physical(cf, cb)) {
                        skipped += bs;
                        continue;
                    }
                    if (run != null && run.extends_(cf, cb, f, b, bs)) {
                        run.blocks++;
                        continue;
                    }
                    if (run != null) {
                        deduped += flush(run, open, canonical);
                    }
                    run = new Run(cf, cb, f, b);
                }
                progress.update("dedupe", done, total);
            }
            if (run != null) {
                deduped += flush(run, open, canonical);
            }
        }
        progress.update("dedupe", total, total);
        return new long[] {deduped, skipped};
    }

    private long flush(Run run, OpenFiles open, Map<Hash, Long> canonical) {
        int bs = options.blockSize();
        LinuxFile src = open.get(run.src.path, LinuxFile.Mode.READ);
        LinuxFile dst = open.get(run.dst.path, LinuxFile.Mode.READ_WRITE);
        run.dst.destination = true;
        run.dst.extents = null;
        DedupeOutcome o = src.dedupeTo((long) run.srcBlock * bs, (long) run.blocks * bs,
                List.of(new DedupeTarget(dst, (long) run.dstBlock * bs))).getFirst();
        if (o.status() == DedupeOutcome.Status.SAME && o.bytesDeduped() == (long) run.blocks * bs) {
            return o.bytesDeduped();
        }
        if (o.status() == DedupeOutcome.Status.ERROR) {
            LOG.warn("FIDEDUPERANGE {} -> {} refused: {}", run.src.path, run.dst.path, o.errorText());
        }
        // part of the run differs (a stale hash or a collision) or was only partly merged: go block by block
        long sum = o.status() == DedupeOutcome.Status.SAME ? o.bytesDeduped() : 0;
        int firstBlock = (int) (sum / bs);
        for (int i = firstBlock; i < run.blocks; i++) {
            DedupeOutcome one = src.dedupeTo((long) (run.srcBlock + i) * bs, bs,
                    List.of(new DedupeTarget(dst, (long) (run.dstBlock + i) * bs))).getFirst();
            if (one.status() == DedupeOutcome.Status.SAME) {
                sum += one.bytesDeduped();
            } else if (one.status() == DedupeOutcome.Status.DIFFERS) {
                canonical.put(run.dst.hash(run.dstBlock + i), location(run.dst.index, run.dstBlock + i));
            }
        }
        return sum;
    }

    private static boolean sharedAt(FileState f, int block) {
        long off = (long) block * f.blockSize;
        Extent e = f.extents == null ? null : f.extentAt(off);
        return e != null && e.shared();
    }

    private static long physical(FileState f, int block) {
        if (f.extents == null) {
            f.extents = extents(f.path, false);
        }
        long off = (long) block * f.blockSize;
        Extent e = f.extentAt(off);
        if (e == null || e.unknownLocation() || e.end() < off + f.blockSize) {
            return -1;
        }
        return e.physical() + (off - e.logical());
    }

    private static long location(int file, int block) {
        return ((long) file << 40) | block;
    }

    private record Hash(long hi, long lo) {}

    /** Consecutive blocks of {@code dst} equal to consecutive blocks of {@code src}. */
    private static final class Run {
        final FileState src;
        final int srcBlock;
        final FileState dst;
        final int dstBlock;
        int blocks = 1;

        Run(FileState src, int srcBlock, FileState dst, int dstBlock) {
            this.src = src;
            this.srcBlock = srcBlock;
            this.dst = dst;
            this.dstBlock = dstBlock;
        }

        boolean extends_(FileState s, int sb, FileState d, int db, int bs) {
            int n = blocks + 1;
            boolean overlaps = s == d && dstBlock < srcBlock + n && srcBlock < dstBlock + n;
            return s == src && d == dst && sb == srcBlock + blocks && db == dstBlock + blocks
                    && (long) n * bs <= MAX_RUN_BYTES && !overlaps;
        }
    }

    /** A small cache of open descriptors, closing the least recently used. */
    private static final class OpenFiles extends LinkedHashMap<String, LinuxFile> implements AutoCloseable {
        OpenFiles() {
            super(16, 0.75f, true);
        }

        LinuxFile get(Path p, LinuxFile.Mode mode) {
            return computeIfAbsent(mode + ":" + p, k -> LinuxFile.open(p, mode));
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, LinuxFile> eldest) {
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

    /** One file of the run: its identity, block hashes and (lazily) extents. */
    private static final class FileState {
        final int index;
        final Path path;
        final String key;
        final int blockSize;
        long[] stat;
        long[] hi;
        long[] lo;
        final BitSet present = new BitSet();
        volatile List<Extent> extents;
        boolean reread;
        boolean destination;
        BitSet skip;

        FileState(int index, Path path, long[] stat, int blockSize) {
            this.index = index;
            this.path = path;
            this.key = path.toString();
            this.stat = stat;
            this.blockSize = blockSize;
            int n = (int) (stat[1] / blockSize);
            hi = new long[n];
            lo = new long[n];
        }

        int blocks() {
            return hi.length;
        }

        void clearHashes() {
            reread = true;
            present.clear();
        }

        synchronized void setHash(int b, long h, long l) {
            hi[b] = h;
            lo[b] = l;
            present.set(b);
        }

        boolean hasHash(int b) {
            return present.get(b);
        }

        Hash hash(int b) {
            return new Hash(hi[b], lo[b]);
        }

        void loadHashes(byte[] bytes) {
            ByteBuffer bb = ByteBuffer.wrap(bytes);
            for (int b = 0; b < blocks(); b++) {
                long h = bb.getLong();
                long l = bb.getLong();
                if (h != 0 || l != 0) {
                    hi[b] = h;
                    lo[b] = l;
                    present.set(b);
                }
            }
        }

        byte[] hashBytes() {
            ByteBuffer bb = ByteBuffer.allocate(16 * blocks());
            for (int b = 0; b < blocks(); b++) {
                bb.putLong(present.get(b) ? hi[b] : 0).putLong(present.get(b) ? lo[b] : 0);
            }
            return bb.array();
        }

        /** @return the extent holding {@code off}, or null (a hole) */
        Extent extentAt(long off) {
            List<Extent> es = extents;
            int lo2 = 0;
            int hi2 = es.size() - 1;
            while (lo2 <= hi2) {
                int mid = (lo2 + hi2) >>> 1;
                Extent e = es.get(mid);
                if (e.end() <= off) {
                    lo2 = mid + 1;
                } else if (e.logical() > off) {
                    hi2 = mid - 1;
                } else {
                    return e;
                }
            }
            return null;
        }

        boolean anyDataIn(long off, long len) {
            for (Extent e : extents) {
                if (e.logical() < off + len && e.end() > off) {
                    return true;
                }
            }
            return false;
        }
    }
}
