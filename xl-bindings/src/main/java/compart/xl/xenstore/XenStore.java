package compart.xl.xenstore;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.xl.foreign.HandleLifecycle;
import compart.xl.foreign.LibcNative;
import compart.xl.foreign.NativeLibrary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

import static compart.xl.xenstore.XenStoreNative.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A connection to xenstored ({@code xs_open}). Use it for Compart's own keys (qrexec, {@code data/...}); domain
 * and device paths belong to libxl.
 *
 * <p><b>Threads.</b> All methods may be called from any thread (libxenstore serialises requests on a handle).
 * Watches use a second handle and one daemon thread {@code xenstore-watch}, started by the first
 * {@link #watch}; listeners run on that thread and must be quick. {@link #close()} waits for calls in flight,
 * stops the watch thread and closes both handles.
 *
 * <p><b>Errors.</b> Each failing call throws a {@link CompartException} (HYPERVISOR; PERMISSION_DENIED for
 * EACCES) naming the function, the path and errno. Native buffers live in an arena per call; strings and arrays
 * libxenstore mallocs are freed before returning.
 */
public final class XenStore implements XenStoreAccess, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(XenStore.class);
    private static final int ENOENT = 2, EACCES = 13, EAGAIN = 11;
    private static final int MAX_TRANSACTION_ATTEMPTS = 64;
    private static final int WATCH_POLL_MILLIS = 200;

    private final MemorySegment handle;
    private final HandleLifecycle lifecycle = new HandleLifecycle("the xenstore connection");
    private final Map<String, Consumer<String>> watchers = new ConcurrentHashMap<>();
    private final AtomicLong nextToken = new AtomicLong(1);
    private final AtomicBoolean stopping = new AtomicBoolean();
    private MemorySegment watchHandle; // guarded by this
    private Thread watchThread; // guarded by this

    private XenStore(MemorySegment handle) {
        this.handle = handle;
    }

    /**
     * Connects to xenstored (through {@code /dev/xen/xenbus} or its socket).
     *
     * @throws CompartException HYPERVISOR when libxenstore is missing or xenstored cannot be reached
     */
    public static XenStore open() {
        return new XenStore(openHandle());
    }

    private static MemorySegment openHandle() {
        XenStoreNative.load();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeLibrary.errnoState(arena);
            MemorySegment h = xs_open(errno, 0);
            if (h.equals(MemorySegment.NULL)) {
                throw new CompartException(ErrorKind.HYPERVISOR, "xs_open failed: "
                        + LibcNative.describeErrno(NativeLibrary.errno(errno)) + "; is xenstored running? Check "
                        + "/dev/xen/xenbus (xenfs on /proc/xen) or /var/run/xenstored/socket, and run as root");
            }
            return h;
        }
    }

    @Override
    public Optional<String> read(String path) {
        return read(XBT_NULL, path);
    }

    @Override
    public void write(String path, String value) {
        write(XBT_NULL, path, value);
    }

    @Override
    public void mkdir(String path) {
        mkdir(XBT_NULL, path);
    }

    @Override
    public void remove(String path) {
        remove(XBT_NULL, path);
    }

    @Override
    public List<String> list(String path) {
        return list(XBT_NULL, path);
    }

    @Override
    public List<XenStorePermission> permissions(String path) {
        return permissions(XBT_NULL, path);
    }

    @Override
    public void setPermissions(String path, List<XenStorePermission> permissions) {
        setPermissions(XBT_NULL, path, permissions);
    }

    /** @return the xenstore home of a domain, e.g. {@code /local/domain/3} ({@code xs_get_domain_path}) */
    public String domainPath(int domid) {
        return call(arena -> {
            MemorySegment errno = NativeLibrary.errnoState(arena);
            MemorySegment raw = xs_get_domain_path(errno, handle, domid);
            if (raw.equals(MemorySegment.NULL)) {
                throw failure("xs_get_domain_path", "domain " + domid, errno);
            }
            return take(raw);
        });
    }

    /**
     * Runs {@code body} in a xenstore transaction and commits it; when the commit fails with EAGAIN (another
     * writer got in between), runs {@code body} again, up to 64 times. {@code body} must therefore only read and
     * write through its argument and have no other side effects. An exception from {@code body} aborts the
     * transaction.
     *
     * @return what {@code body} returned in the attempt that committed
     */
    public <T> T transaction(Function<XenStoreAccess, T> body) {
        Objects.requireNonNull(body, "body");
        for (int attempt = 1; attempt <= MAX_TRANSACTION_ATTEMPTS; attempt++) {
            int t = call(arena -> {
                MemorySegment errno = NativeLibrary.errnoState(arena);
                int id = xs_transaction_start(errno, handle);
                if (id == XBT_NULL) {
                    throw failure("xs_transaction_start", "", errno);
                }
                return id;
            });
            T result;
            try {
                result = body.apply(new Transaction(t));
            } catch (RuntimeException | Error e) {
                end(t, true);
                throw e;
            }
            if (end(t, false)) {
                return result;
            }
            LOG.debug("xenstore transaction {} conflicted (attempt {}), retrying", t, attempt);
        }
        throw new CompartException(ErrorKind.HYPERVISOR, "xs_transaction_end kept failing with EAGAIN after "
                + MAX_TRANSACTION_ATTEMPTS + " attempts: another writer changes the same nodes continuously");
    }

    /** @return true when committed (or aborted as asked), false on EAGAIN */
    private boolean end(int t, boolean abort) {
        return call(arena -> {
            MemorySegment errno = NativeLibrary.errnoState(arena);
            if (xs_transaction_end(errno, handle, t, abort)) {
                return true;
            }
            if (!abort && NativeLibrary.errno(errno) == EAGAIN) {
                return false;
            }
            throw failure("xs_transaction_end", "transaction " + t, errno);
        });
    }

    private final class Transaction implements XenStoreAccess {
        private final int t;

        Transaction(int t) {
            this.t = t;
        }

        @Override
        public Optional<String> read(String path) {
            return XenStore.this.read(t, path);
        }

        @Override
        public void write(String path, String value) {
            XenStore.this.write(t, path, value);
        }

        @Override
        public void mkdir(String path) {
            XenStore.this.mkdir(t, path);
        }

        @Override
        public void remove(String path) {
            XenStore.this.remove(t, path);
        }

        @Override
        public List<String> list(String path) {
            return XenStore.this.list(t, path);
        }

        @Override
        public List<XenStorePermission> permissions(String path) {
            return XenStore.this.permissions(t, path);
        }

        @Override
        public void setPermissions(String path, List<XenStorePermission> permissions) {
            XenStore.this.setPermissions(t, path, permissions);
        }
    }

    /**
     * Watches {@code path} and everything below it ({@code xs_watch}): {@code listener} gets the path that
     * changed. xenstored fires every new watch once right away, with the watched path itself.
     *
     * @return the registration; close it to remove the watch
     */
    public XenStoreWatch watch(String path, Consumer<String> listener) {
        requirePath(path);
        Objects.requireNonNull(listener, "listener");
        MemorySegment wh = watchHandle();
        String token = "compart-" + nextToken.getAndIncrement();
        watchers.put(token, listener);
        try {
            call(arena -> {
                MemorySegment errno = NativeLibrary.errnoState(arena);
                if (!xs_watch(errno, wh, arena.allocateFrom(path), arena.allocateFrom(token))) {
                    throw failure("xs_watch", path, errno);
                }
                return null;
            });
        } catch (RuntimeException e) {
            watchers.remove(token);
            throw e;
        }
        Runnable unwatch = lifecycle.watchCloser(() -> watchers.remove(token), () -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment errno = NativeLibrary.errnoState(arena);
                if (!xs_unwatch(errno, wh, arena.allocateFrom(path), arena.allocateFrom(token))) {
                    LOG.warn("xs_unwatch {} failed: {}", path, LibcNative.describeErrno(NativeLibrary.errno(errno)));
                }
            }
        });
        return new XenStoreWatch() {
            @Override
            public String path() {
                return path;
            }

            @Override
            public void close() {
                unwatch.run();
            }
        };
    }

    private synchronized MemorySegment watchHandle() {
        if (watchHandle == null) {
            watchHandle = openHandle();
            MemorySegment wh = watchHandle;
            int fd;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment errno = NativeLibrary.errnoState(arena);
                fd = xs_fileno(errno, wh);
                if (fd < 0) {
                    throw failure("xs_fileno", "", errno);
                }
            }
            watchThread = Thread.ofPlatform().name("xenstore-watch").daemon(true).start(() -> watchLoop(wh, fd));
        }
        return watchHandle;
    }

    private void watchLoop(MemorySegment wh, int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfd = arena.allocate(LibcNative.POLLFD);
            MemorySegment errno = NativeLibrary.errnoState(arena);
            while (!stopping.get()) {
                pollfd.set(JAVA_INT, 0, fd);
                pollfd.set(JAVA_SHORT, 4, LibcNative.POLLIN);
                pollfd.set(JAVA_SHORT, 6, (short) 0);
                LibcNative.poll(errno, pollfd, 1, WATCH_POLL_MILLIS);
                while (!stopping.get()) {
                    MemorySegment event = xs_check_watch(errno, wh);
                    if (event.equals(MemorySegment.NULL)) {
                        break;
                    }
                    String changed;
                    String token;
                    try {
                        MemorySegment vec = event.reinterpret(2 * ADDRESS.byteSize());
                        changed = NativeLibrary.string(vec.getAtIndex(ADDRESS, XS_WATCH_PATH));
                        token = NativeLibrary.string(vec.getAtIndex(ADDRESS, XS_WATCH_TOKEN));
                    } finally {
                        LibcNative.free(event);
                    }
                    Consumer<String> listener = watchers.get(token);
                    if (listener != null) {
                        try {
                            listener.accept(changed);
                        } catch (RuntimeException e) {
                            LOG.error("xenstore watch listener failed on {}", changed, e);
                        }
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.error("xenstore watch thread stopped", e);
        }
    }

    /** Stops the watch thread and closes the handles ({@code xs_close}). Idempotent. */
    @Override
    public void close() {
        stopping.set(true);
        Thread thread;
        MemorySegment wh;
        synchronized (this) {
            thread = watchThread;
            wh = watchHandle;
        }
        if (thread != null && thread != Thread.currentThread()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        lifecycle.close(() -> {
            watchers.clear();
            if (wh != null) {
                xs_close(wh);
            }
            xs_close(handle);
        });
    }

    // ---- operations with a transaction id ----

    private Optional<String> read(int t, String path) {
        requirePath(path);
        return call(arena -> {
            MemorySegment errno = NativeLibrary.errnoState(arena);
            MemorySegment len = arena.allocate(JAVA_INT);
            MemorySegment raw = xs_read(errno, handle, t, arena.allocateFrom(path), len);
            if (raw.equals(MemorySegment.NULL)) {
                if (NativeLibrary.errno(errno) == ENOENT) {
                    return Optional.empty();
                }
                throw failure("xs_read", path, errno);
            }
            try {
                byte[] bytes = raw.reinterpret(Integer.toUnsignedLong(len.get(JAVA_INT, 0))).toArray(JAVA_BYTE);
                return Optional.of(new String(bytes, StandardCharsets.UTF_8));
            } finally {
                LibcNative.free(raw);
            }
        });
    }

    private void write(int t, String path, String value) {
        requirePath(path);
        Objects.requireNonNull(value, "value");
        call(arena -> {
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            MemorySegment data = arena.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, data, JAVA_BYTE, 0, bytes.length);
            MemorySegment errno = NativeLibrary.errnoState(arena);
            if (!xs_write(errno, handle, t, arena.allocateFrom(path), data, bytes.length)) {
                throw failure("xs_write", path, errno);
            }
            return null;
        });
    }

    private void mkdir(int t, String path) {
        requirePath(path);
        call(arena -> {
            MemorySegment errno = NativeLibrary.errnoState(arena);
            if (!xs_mkdir(errno, handle, t, arena.allocateFrom(path))) {
                throw failure("xs_mkdir", path, errno);
            }
            return null;
        });
    }

    private void remove(int t, String path) {
        requirePath(path);
        call(arena -> {
            MemorySegment errno = NativeLibrary.errnoState(arena);
            if (!xs_rm(errno, handle, t, arena.allocateFrom(path)) && NativeLibrary.errno(errno) != ENOENT) {
                throw failure("xs_rm", path, errno);
            }
            return null;
        });
    }

    private List<String> list(int t, String path) {
        requirePath(path);
        return call(arena -> {
            MemorySegment errno = NativeLibrary.errnoState(arena);
            MemorySegment num = arena.allocate(JAVA_INT);
            MemorySegment raw = xs_directory(errno, handle, t, arena.allocateFrom(path), num);
            if (raw.equals(MemorySegment.NULL)) {
                if (NativeLibrary.errno(errno) == ENOENT) {
                    return List.of();
                }
                throw failure("xs_directory", path, errno);
            }
            try {
                int n = num.get(JAVA_INT, 0);
                MemorySegment vec = raw.reinterpret(n * ADDRESS.byteSize());
                List<String> names = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    names.add(NativeLibrary.string(vec.getAtIndex(ADDRESS, i)));
                }
                return List.copyOf(names);
            } finally {
                LibcNative.free(raw); // one allocation holds the array and the strings
            }
        });
    }

    private List<XenStorePermission> permissions(int t, String path) {
        requirePath(path);
        return call(arena -> {
            MemorySegment errno = NativeLibrary.errnoState(arena);
            MemorySegment num = arena.allocate(JAVA_INT);
            MemorySegment raw = xs_get_permissions(errno, handle, t, arena.allocateFrom(path), num);
            if (raw.equals(MemorySegment.NULL)) {
                throw failure("xs_get_permissions", path, errno);
            }
            try {
                int n = num.get(JAVA_INT, 0);
                MemorySegment array = raw.reinterpret(n * XS_PERMISSIONS.byteSize());
                List<XenStorePermission> perms = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    long base = i * XS_PERMISSIONS.byteSize();
                    perms.add(new XenStorePermission(array.get(JAVA_INT, base),
                            XenStorePermission.Access.of(array.get(JAVA_INT, base + 4))));
                }
                return List.copyOf(perms);
            } finally {
                LibcNative.free(raw);
            }
        });
    }

    private void setPermissions(int t, String path, List<XenStorePermission> permissions) {
        requirePath(path);
        if (permissions.isEmpty()) {
            throw CompartException.invalidValue("xenstore permissions of %s need at least the owner entry", path);
        }
        call(arena -> {
            MemorySegment array = arena.allocate(XS_PERMISSIONS, permissions.size());
            for (int i = 0; i < permissions.size(); i++) {
                long base = i * XS_PERMISSIONS.byteSize();
                array.set(JAVA_INT, base, permissions.get(i).domid());
                array.set(JAVA_INT, base + 4, permissions.get(i).access().bits());
            }
            MemorySegment errno = NativeLibrary.errnoState(arena);
            if (!xs_set_permissions(errno, handle, t, arena.allocateFrom(path), array, permissions.size())) {
                throw failure("xs_set_permissions", path, errno);
            }
            return null;
        });
    }

    // ---- helpers ----

    private <T> T call(Function<Arena, T> body) {
        return lifecycle.callInArena(body);
    }

    private static void requirePath(String path) {
        Objects.requireNonNull(path, "path");
        if (path.isEmpty() || path.indexOf('\0') >= 0) {
            throw CompartException.invalidValue("xenstore path must be non-empty and without NUL, got '%s'", path);
        }
    }

    private static CompartException failure(String function, String path, MemorySegment errnoState) {
        int errno = NativeLibrary.errno(errnoState);
        ErrorKind kind = errno == EACCES ? ErrorKind.PERMISSION_DENIED : ErrorKind.HYPERVISOR;
        return new CompartException(kind, function + " failed" + (path.isEmpty() ? "" : " on " + path) + ": "
                + LibcNative.describeErrno(errno) + (errno == EACCES
                ? "; the node's permissions do not allow this domain (xenstore-ls -p)"
                : "; check that xenstored is running"));
    }

    private static String take(MemorySegment raw) {
        try {
            return NativeLibrary.string(raw);
        } finally {
            LibcNative.free(raw);
        }
    }
}
