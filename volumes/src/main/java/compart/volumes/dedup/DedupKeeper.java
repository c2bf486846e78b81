package compart.volumes.dedup;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one pool deduplicated in the background, inside the daemon that runs the pool: each commit of a volume
 * ({@link #committed}) asks for a pass of the {@link Deduplicator} over the pool's kept images, with the pool's
 * hash store, on one thread of minimal priority. A pass is incremental (the store knows the unchanged files and
 * the blocks still shared where they were, so after a qube's stop it reads only what the qube wrote), yields to
 * the pool's own operations (while a {@link #busy} lease is held it waits at its next read or merge), can be
 * cancelled ({@link #cancel}), and resumes after a restart: a keeper runs a pass as soon as it starts (the first
 * full pass when deduplication is turned on), and what a killed pass merged stays merged — FIDEDUPERANGE shares a
 * range only after the kernel compared its bytes, under its own locks, so no byte of a volume changes.
 *
 * <p>Thread-safe.
 */
public final class DedupKeeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DedupKeeper.class);

    /** A lease on the pool that a pass waits for; closing it lets the pass go on. */
    @FunctionalInterface
    public interface Busy extends AutoCloseable {
        @Override
        void close();
    }

    private final String pool;
    private final Supplier<List<Path>> files;
    private final DedupOptions options;
    private final Thread worker;
    /** Requests made / the request the last finished pass served / the request a cancel or failure gave up. */
    private long requested;
    private long served;
    private long abandoned = -1;
    private long firstUnservedNanos;
    private int busy;
    private boolean cancelling;
    private boolean running;
    private boolean closed;
    private String state = "pending";
    private DedupReport last;
    private long passes;
    private long dedupedBytes;
    private long lastCommitToDoneNanos = -1;
    private String lastError = "";
    private String progress = "";

    /**
     * Starts keeping a pool deduplicated, with a first pass.
     *
     * @param poolName  for messages and the thread's name
     * @param files     the files to deduplicate, listed anew at each pass (a pool's committed images and revisions)
     * @param hashFile  the pool's hash store (H2 MVStore), kept between passes and restarts
     * @param blockSize the unit compared and shared ({@link DedupOptions#blockSize()})
     */
    public DedupKeeper(String poolName, Supplier<List<Path>> files, Path hashFile, int blockSize) {
        this.pool = poolName;
        this.files = files;
        this.options = new DedupOptions(blockSize, hashFile, 1);
        this.requested = 1;
        this.firstUnservedNanos = System.nanoTime();
        this.worker = Thread.ofPlatform().daemon().name("dedup-keeper-" + poolName).unstarted(this::work);
        worker.setPriority(Thread.MIN_PRIORITY);
        worker.start();
    }

    /** A volume of the pool was committed: a pass will deduplicate what changed (soon, never blocking the caller). */
    public void committed() {
        synchronized (this) {
            if (served == requested) {
                firstUnservedNanos = System.nanoTime();
            }
            requested++;
            notifyAll();
        }
    }

    /** @return a lease during which a running pass waits (take it around a start, a stop, any volume operation) */
    public Busy busy() {
        synchronized (this) {
            busy++;
        }
        return () -> {
            synchronized (this) {
                busy--;
                notifyAll();
            }
        };
    }

    /** Stops the running pass at its next read or merge; what it merged stays, the next commit runs a new pass. */
    public synchronized void cancel() {
        if (running) {
            cancelling = true;
            notifyAll();
        }
    }

    /**
     * @return whether every commit made so far was deduplicated by a pass that ended (false: still pending, or the
     *         time ran out, or the pass was cancelled or failed)
     */
    public synchronized boolean awaitDeduplicated(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (served != requested && abandoned != requested && !closed) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return served == requested;
    }

    /**
     * @return what {@code qvm-pool info} shows: {@code dedup_state} (pending, running, paused, idle, cancelled,
     *         failed), while a pass runs its {@code dedup_progress} (phase and bytes done of the phase's, as
     *         {@code dedupe 1048576/8388608}), and the figures of the passes since the keeper started
     */
    public synchronized Map<String, String> figures() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("dedup_state", state);
        if (running) {
            out.put("dedup_progress", progress);
        }
        out.put("dedup_passes", Long.toString(passes));
        out.put("dedup_deduplicated_bytes", Long.toString(dedupedBytes));
        if (last != null) {
            out.put("dedup_last_scanned_bytes", Long.toString(last.scannedBytes()));
            out.put("dedup_last_deduplicated_bytes", Long.toString(last.dedupedBytes()));
            out.put("dedup_last_seconds", String.format(Locale.ROOT, "%.3f", last.seconds()));
        }
        if (lastCommitToDoneNanos >= 0) {
            out.put("dedup_last_commit_to_done_ms", Long.toString(lastCommitToDoneNanos / 1_000_000));
        }
        if (!lastError.isEmpty()) {
            out.put("dedup_last_error", lastError);
        }
        return out;
    }

    /** Cancels the running pass and ends the thread. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            cancelling = running;
            notifyAll();
        }
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void work() {
        while (true) {
            long serving;
            synchronized (this) {
                while (!closed && (served == requested || abandoned == requested)) {
                    state = abandoned == requested ? state : "idle";
                    waitQuietly();
                }
                if (closed) {
                    state = "closed";
                    notifyAll();
                    return;
                }
                serving = requested;
                progress = "list";
                running = true;
                cancelling = false;
                state = "running";
            }
            try {
                List<Path> list = files.get();
                DedupReport r = list.isEmpty() ? new DedupReport(0, 0, 0, 0, 0, 0)
                        : new Deduplicator(options, this::checkpoint).run(list);
                synchronized (this) {
                    last = r;
                    passes++;
                    dedupedBytes += r.dedupedBytes();
                    lastError = "";
                    lastCommitToDoneNanos = System.nanoTime() - firstUnservedNanos;
                    served = serving;
                    if (served != requested) {
                        firstUnservedNanos = System.nanoTime();
                    }
                }
            } catch (RuntimeException e) {
                synchronized (this) {
                    boolean wasCancelled = cancelling;
                    abandoned = serving;
                    state = wasCancelled ? "cancelled" : "failed";
                    lastError = wasCancelled ? "" : String.valueOf(e.getMessage());
                    if (!wasCancelled) {
                        LOG.warn("pool {}: deduplication pass failed (the next commit tries again): {}", pool,
                                e.getMessage());
                    }
                }
            } finally {
                synchronized (this) {
                    running = false;
                    cancelling = false;
                    notifyAll();
                }
            }
        }
    }

    /** Called by the pass at each read and merge: waits while the pool is busy, stops when cancelled. */
    private void checkpoint(String phase, long done, long total) {
        synchronized (this) {
            progress = phase + " " + done + "/" + total;
            while (busy > 0 && !cancelling) {
                state = "paused";
                waitQuietly();
            }
            if (cancelling) {
                throw new CompartException(ErrorKind.INVALID_STATE, "pool " + pool + ": deduplication pass cancelled");
            }
            state = "running";
        }
    }

    private void waitQuietly() {
        try {
            wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }
}
