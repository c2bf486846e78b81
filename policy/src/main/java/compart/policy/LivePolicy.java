package compart.policy;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
    /**
     * The watched directories and the names in each that matter: every name for a policy directory, only the
     * names read for a directory that merely holds an included file or a policy directory still missing (a
     * missing {@code /run/qubes/policy.d} has {@code /run/qubes} watched, where other programs write all day).
     */
    private final Map<Path, Set<String>> watched = new ConcurrentHashMap<>();
    private static final Set<String> EVERY_NAME = Set.of();
    private List<String> lastReported = List.of();
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
            boolean isDir = Files.isDirectory(input);
            Path dir = isDir ? input : input.getParent();
            if (dir == null) {
                continue;
            }
            boolean fresh = !watched.containsKey(dir);
            watched.merge(dir, isDir ? EVERY_NAME : Set.of(input.getFileName().toString()),
                    (had, more) -> had.isEmpty() || more.isEmpty() ? EVERY_NAME : union(had, more));
            if (fresh) {
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
        List<String> problems = p.diagnostics().stream().map(Object::toString).toList();
        if (!p.valid() && !problems.equals(lastReported)) {
            LOG.error("policy has {} error(s), every call is denied until fixed; first: {}",
                    p.diagnostics().size(), p.diagnostics().getFirst());
        } else if (p.valid() && !lastReported.isEmpty()) {
            LOG.info("the policy has no errors any more; calls are decided by it again");
        }
        lastReported = p.valid() ? List.of() : problems;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        var both = new HashSet<>(a);
        both.addAll(b);
        return Set.copyOf(both);
    }

    /** @return whether one of the key's events names something the policy reads (or events were lost) */
    private boolean matters(WatchKey key) {
        Set<String> names = key.watchable() instanceof Path dir ? watched.get(dir) : EVERY_NAME;
        boolean matters = false;
        for (WatchEvent<?> event : key.pollEvents()) {
            matters |= names == null || names.isEmpty() || event.kind() == StandardWatchEventKinds.OVERFLOW
                    || (event.context() instanceof Path name && names.contains(name.toString()));
        }
        key.reset();
        return matters;
    }

    private void watch() {
        try {
            while (true) {
                boolean matters = matters(watcher.take());
                // let an editor or package manager finish writing before reading
                WatchKey more;
                while ((more = watcher.poll(50, TimeUnit.MILLISECONDS)) != null) {
                    matters |= matters(more);
                }
                if (matters) {
                    reload();
                }
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
