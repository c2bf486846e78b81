package compart.policy;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The current policy of a running daemon: watches the policy directories (and every directory a policy file
 * came from) and swaps in a freshly loaded {@link Policy} when something changes.
 *
 * <p>The swap is one atomic reference write: a decision that already holds the old policy finishes with it;
 * the next one sees the new. A reload that finds problems is swapped in too, so the system fails closed, as
 * Qubes does. Thread safe. {@link #close()} stops the watcher thread.
 */
public final class LivePolicy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LivePolicy.class);

    private final Supplier<Policy> loader;
    private final AtomicReference<Policy> current = new AtomicReference<>();
    private final WatchService watcher;
    private final Thread thread;
    private final Set<Path> watched = new HashSet<>();
    private volatile long generation;

    /**
     * Loads the policy and starts watching.
     *
     * @param dirs      the policy directories, in priority order
     * @param legacyDir the R4.0 directory, or null for the default
     * @throws IOException when no file watcher can be created
     */
    public LivePolicy(List<Path> dirs, Path legacyDir) throws IOException {
        this.loader = () -> Policy.load(dirs, legacyDir);
        this.watcher = FileSystems.getDefault().newWatchService();
        reload();
        this.thread = Thread.ofPlatform().daemon().name("policy-watch").start(this::watch);
    }

    /** @return the policy to decide with now */
    public Policy current() {
        return current.get();
    }

    /** @return how many times the policy was loaded (1 after construction) */
    public long generation() {
        return generation;
    }

    /** Loads the policy now and swaps it in. */
    public synchronized void reload() {
        Policy p = loader.get();
        for (Path input : p.inputs()) {
            Path dir = Files.isDirectory(input) ? input : input.getParent();
            if (dir != null && watched.add(dir)) {
                try {
                    dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_DELETE,
                            StandardWatchEventKinds.ENTRY_MODIFY);
                } catch (IOException | ClosedWatchServiceException e) {
                    watched.remove(dir);
                    LOG.warn("cannot watch {} for policy changes: {}", dir, e.toString());
                }
            }
        }
        current.set(p);
        generation++;
        if (!p.valid()) {
            LOG.error("policy has {} error(s), every call is denied until fixed; first: {}",
                    p.diagnostics().size(), p.diagnostics().getFirst());
        }
    }

    private void watch() {
        try {
            while (true) {
                WatchKey key = watcher.take();
                key.pollEvents();
                key.reset();
                // let an editor or package manager finish writing before reading
                WatchKey more;
                while ((more = watcher.poll(50, TimeUnit.MILLISECONDS)) != null) {
                    more.pollEvents();
                    more.reset();
                }
                reload();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        }
    }

    @Override
    public void close() {
        try {
            watcher.close();
        } catch (IOException e) {
            LOG.debug("closing the policy watcher: {}", e.toString());
        }
        thread.interrupt();
    }
}
