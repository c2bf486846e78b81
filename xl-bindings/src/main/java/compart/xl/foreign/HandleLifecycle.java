package compart.xl.foreign;

import compart.errors.CompartException;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
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
     * Registers a watch whose listener is already recorded: runs {@code enable} (the native watch call); when it
     * fails, runs {@code forget} (drop the listener) and rethrows.
     *
     * @param release the native unwatch, given what {@code enable} returned
     * @return the watch's close action, as {@link #watchCloser}
     */
    public <T> Runnable watch(Runnable forget, Supplier<T> enable, Consumer<T> release) {
        T enabled;
        try {
            enabled = enable.get();
        } catch (RuntimeException e) {
            forget.run();
            throw e;
        }
        return watchCloser(forget, () -> release.accept(enabled));
    }

    /**
     * The close action of a watch registered on this handle: the first run calls {@code forget} (drop the
     * listener), then {@code release} (the native unwatch) unless the handle is already closed, which released
     * every watch with it; later runs do nothing.
     */
    private Runnable watchCloser(Runnable forget, Runnable release) {
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

    /**
     * Waits for a handle's background thread (event or watch loop) to end before the handle is freed; returns at
     * once when there is none or when it is the calling thread (a listener closing the handle it runs on). Keeps
     * the interrupt status when interrupted.
     */
    public static void awaitThread(Thread thread) {
        if (thread != null && thread != Thread.currentThread()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
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
