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
        Runnable unwatch = lifecycle.watch(() -> watchers.remove(token), () -> call(arena -> {
            MemorySegment errno = NativeLibrary.errnoState(arena);
            if (!xs_watch(errno, wh, arena.allocateFrom(path), arena.allocateFrom(token))) {
                throw failure("xs_watch", path, errno);
            }
            return wh;
        }), watched -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment errno = NativeLibrary.errnoState(arena);
                if (!xs_unwatch(errno, watched, arena.allocateFrom(path), arena.allocateFrom(token))) {
                    LOG.warn("xs_unwatch {} failed: {}", path, LibcNative.describeErrno(NativeLibrary.errno(errno)));
                }
            }
        });
        return new PathWatch(path, unwatch);
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
        HandleLifecycle.awaitThread(thread);
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
        return fetch("xs_read", path, Optional.empty(), (errno, p, len) -> xs_read(errno, handle, t, p, len),
                (raw, len) -> Optional.of(new String(raw.reinterpret(Integer.toUnsignedLong(len)).toArray(JAVA_BYTE),
                        StandardCharsets.UTF_8)));
    }

    private void write(int t, String path, String value) {
        requirePath(path);
        Objects.requireNonNull(value, "value");
        change("xs_write", path, false, (errno, arena, p) -> {
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            MemorySegment data = arena.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, data, JAVA_BYTE, 0, bytes.length);
            return xs_write(errno, handle, t, p, data, bytes.length);
        });
    }

    private void mkdir(int t, String path) {
        change("xs_mkdir", path, false, (errno, arena, p) -> xs_mkdir(errno, handle, t, p));
    }

    private void remove(int t, String path) {
        change("xs_rm", path, true, (errno, arena, p) -> xs_rm(errno, handle, t, p));
    }

    private List<String> list(int t, String path) {
        return fetch("xs_directory", path, List.of(), (errno, p, num) -> xs_directory(errno, handle, t, p, num),
                (raw, n) -> {
                    MemorySegment vec = raw.reinterpret(n * ADDRESS.byteSize());
                    List<String> names = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        names.add(NativeLibrary.string(vec.getAtIndex(ADDRESS, i)));
                    }
                    return List.copyOf(names); // one allocation held the array and the strings: freed after this
                });
    }

    private List<XenStorePermission> permissions(int t, String path) {
        return fetch("xs_get_permissions", path, null,
                (errno, p, num) -> xs_get_permissions(errno, handle, t, p, num), (raw, n) -> {
                    MemorySegment array = raw.reinterpret(n * XS_PERMISSIONS.byteSize());
                    List<XenStorePermission> perms = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        long base = i * XS_PERMISSIONS.byteSize();
                        perms.add(new XenStorePermission(array.get(JAVA_INT, base),
                                XenStorePermission.Access.of(array.get(JAVA_INT, base + 4))));
                    }
                    return List.copyOf(perms);
                });
    }

    private void setPermissions(int t, String path, List<XenStorePermission> permissions) {
        requirePath(path);
        if (permissions.isEmpty()) {
            throw CompartException.invalidValue("xenstore permissions of %s need at least the owner entry", path);
        }
        change("xs_set_permissions", path, false, (errno, arena, p) -> {
            MemorySegment array = arena.allocate(XS_PERMISSIONS, permissions.size());
            for (int i = 0; i < permissions.size(); i++) {
                long base = i * XS_PERMISSIONS.byteSize();
                array.set(JAVA_INT, base, permissions.get(i).domid());
                array.set(JAVA_INT, base + 4, permissions.get(i).access().bits());
            }
            return xs_set_permissions(errno, handle, t, p, array, permissions.size());
        });
    }

    /** A libxenstore call that mallocs its result and stores the result's length or count in {@code count}. */
    private interface Fetch {
        MemorySegment call(MemorySegment errno, MemorySegment path, MemorySegment count);
    }

    /** Reads a fetched result before it is freed. */
    private interface Decode<T> {
        T decode(MemorySegment raw, int count);
    }

    /**
     * Runs a call that returns a malloc'd result (NULL and errno on failure), decodes the result and frees it.
     *
     * @param missing what a missing node (ENOENT) gives, or null when it is a failure like any other
     */
    private <T> T fetch(String function, String path, T missing, Fetch fetch, Decode<T> decode) {
        requirePath(path);
        return call(arena -> {
            MemorySegment errno = NativeLibrary.errnoState(arena);
            MemorySegment count = arena.allocate(JAVA_INT);
            MemorySegment raw = fetch.call(errno, arena.allocateFrom(path), count);
            if (raw.equals(MemorySegment.NULL)) {
                if (missing != null && NativeLibrary.errno(errno) == ENOENT) {
                    return missing;
                }
                throw failure(function, path, errno);
            }
            try {
                return decode.decode(raw, count.get(JAVA_INT, 0));
            } finally {
                LibcNative.free(raw);
            }
        });
    }

    /** A libxenstore call that answers true on success, false and errno on failure. */
    private interface Change {
        boolean call(MemorySegment errno, Arena arena, MemorySegment path);
    }

    /** Runs a change; {@code missingIsFine}: a missing node (ENOENT) is no failure (rm of what is gone). */
    private void change(String function, String path, boolean missingIsFine, Change change) {
        requirePath(path);
        call(arena -> {
            MemorySegment errno = NativeLibrary.errnoState(arena);
            if (!change.call(errno, arena, arena.allocateFrom(path))
                    && !(missingIsFine && NativeLibrary.errno(errno) == ENOENT)) {
                throw failure(function, path, errno);
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

    /** What {@link #watch} returns: closing it removes the watch (once). */
    private record PathWatch(String path, Runnable unwatch) implements XenStoreWatch {
        @Override
        public void close() {
            unwatch.run();
        }
    }
}
