package compart.xl.foreign;

import compart.errors.CompartException;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Whether a native handle (a libxl context, a xenstore connection, a xenctrl interface) is still open, and the
 * lock that keeps it from being freed under a call: calls run under the read lock and fail once the handle is
 * closed; {@link #close} frees it under the write lock, once.
 *
 * <p>Thread-safe. Only the wrappers of {@code compart.xl} use it (the package is not exported).
 */
public final class HandleLifecycle {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final String name;
    private boolean closed; // guarded by lock's write lock

    /** @param name the handle as the error names it, e.g. {@code "the libxl context"} */
    public HandleLifecycle(String name) {
        this.name = name;
    }

    /**
     * Runs {@code body} while the handle cannot be closed.
     *
     * @throws CompartException INVALID_STATE when the handle is closed
     */
    public <T> T call(Supplier<T> body) {
        lock.readLock().lock();
        try {
            requireOpen();
            return body.get();
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Runs {@code body} with a confined arena that is closed when it returns, while the handle cannot be closed.
     *
     * @throws CompartException INVALID_STATE when the handle is closed
     */
    public <T> T callInArena(Function<Arena, T> body) {
        lock.readLock().lock();
        try (Arena arena = Arena.ofConfined()) {
            requireOpen();
            return body.apply(arena);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Marks the handle closed and runs {@code free} under the write lock; does nothing the second time. */
    public void close(Runnable free) {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                free.run();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * The close action of a watch registered on this handle: the first run calls {@code forget} (drop the
     * listener), then {@code release} (the native unwatch) unless the handle is already closed, which released
     * every watch with it; later runs do nothing.
     */
    public Runnable watchCloser(Runnable forget, Runnable release) {
        AtomicBoolean open = new AtomicBoolean(true);
        return () -> {
            if (!open.compareAndSet(true, false)) {
                return;
            }
            forget.run();
            lock.readLock().lock();
            try {
                if (!closed) {
                    release.run();
                }
            } finally {
                lock.readLock().unlock();
            }
        };
    }

    /** @return the read lock, for a loop that checks {@link #isClosed()} between steps (an event thread) */
    public Lock readLock() {
        return lock.readLock();
    }

    /** @return whether the handle is closed; call it holding {@link #readLock()} */
    public boolean isClosed() {
        return closed;
    }

    private void requireOpen() {
        if (closed) {
            throw CompartException.invalidState("%s is closed", name);
        }
    }
}
