package compart.xl.xenstore;

import compart.xl.foreign.NativeLibrary;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

import static compart.xl.foreign.NativeLibrary.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Raw FFM binding to {@code libxenstore.so.4} (xenstore.h), jextract style. Every function that reports failure
 * through errno is bound with errno capture: its first parameter is the capture state segment
 * ({@link NativeLibrary#errnoState}). Checked by {@code LayoutProbeTest}.
 */
final class XenStoreNative {
    private XenStoreNative() {
    }

    static final String SONAME = "libxenstore.so.4";

    static final long XS_OPEN_READONLY = 1, XS_OPEN_SOCKETONLY = 2;
    static final int XBT_NULL = 0;
    static final int XS_WATCH_PATH = 0, XS_WATCH_TOKEN = 1;
    static final int XS_PERM_NONE = 0, XS_PERM_READ = 1, XS_PERM_WRITE = 2;

    /** {@snippet lang=c : struct xs_permissions { unsigned int id; unsigned int perms; }; } */
    static final StructLayout XS_PERMISSIONS = MemoryLayout.structLayout(
            JAVA_INT.withName("id"), JAVA_INT.withName("perms")).withName("xs_permissions");

    static NativeLibrary load() {
        return NativeLibrary.load(SONAME, "libxenstore4");
    }

    static final class Handles {
        private Handles() {
        }

        static final NativeLibrary LIB = load();
        private static final FunctionDescriptor BOOL_H_T_PATH = FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT, ADDRESS);

        static final MethodHandle xs_open = LIB.downcall("xs_open", FunctionDescriptor.of(ADDRESS, JAVA_LONG),
                NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xs_close = LIB.downcall("xs_close", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle xs_read = LIB.downcall("xs_read",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS), NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xs_write = LIB.downcall("xs_write",
                FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
                NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xs_mkdir = LIB.downcall("xs_mkdir", BOOL_H_T_PATH, NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xs_rm = LIB.downcall("xs_rm", BOOL_H_T_PATH, NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xs_directory = LIB.downcall("xs_directory",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS), NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xs_get_permissions = LIB.downcall("xs_get_permissions",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS), NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xs_set_permissions = LIB.downcall("xs_set_permissions",
                FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
                NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xs_watch = LIB.downcall("xs_watch",
                FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, ADDRESS, ADDRESS), NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xs_unwatch = LIB.downcall("xs_unwatch",
                FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, ADDRESS, ADDRESS), NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xs_fileno = LIB.downcall("xs_fileno", FunctionDescriptor.of(JAVA_INT, ADDRESS),
                NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xs_check_watch = LIB.downcall("xs_check_watch",
                FunctionDescriptor.of(ADDRESS, ADDRESS), NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xs_transaction_start = LIB.downcall("xs_transaction_start",
                FunctionDescriptor.of(JAVA_INT, ADDRESS), NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xs_transaction_end = LIB.downcall("xs_transaction_end",
                FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT, JAVA_BOOLEAN), NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xs_get_domain_path = LIB.downcall("xs_get_domain_path",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT), NativeLibrary.CAPTURE_ERRNO);
    }

    /** {@snippet lang=c : struct xs_handle *xs_open(unsigned long flags); } */
    static MemorySegment xs_open(MemorySegment errno, long flags) {
        try { return (MemorySegment) Handles.xs_open.invokeExact(errno, flags); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void xs_close(struct xs_handle *xsh); } */
    static void xs_close(MemorySegment h) {
        try { Handles.xs_close.invokeExact(h); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *len); } */
    static MemorySegment xs_read(MemorySegment errno, MemorySegment h, int t, MemorySegment path, MemorySegment len) {
        try { return (MemorySegment) Handles.xs_read.invokeExact(errno, h, t, path, len); } catch (Throwable t2) { throw rethrow(t2); }
    }

    /** {@snippet lang=c : bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path, const void *data, unsigned int len); } */
    static boolean xs_write(MemorySegment errno, MemorySegment h, int t, MemorySegment path, MemorySegment data, int len) {
        try { return (boolean) Handles.xs_write.invokeExact(errno, h, t, path, data, len); } catch (Throwable t2) { throw rethrow(t2); }
    }

    /** {@snippet lang=c : bool xs_mkdir(struct xs_handle *h, xs_transaction_t t, const char *path); } */
    static boolean xs_mkdir(MemorySegment errno, MemorySegment h, int t, MemorySegment path) {
        try { return (boolean) Handles.xs_mkdir.invokeExact(errno, h, t, path); } catch (Throwable t2) { throw rethrow(t2); }
    }

    /** {@snippet lang=c : bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path); } */
    static boolean xs_rm(MemorySegment errno, MemorySegment h, int t, MemorySegment path) {
        try { return (boolean) Handles.xs_rm.invokeExact(errno, h, t, path); } catch (Throwable t2) { throw rethrow(t2); }
    }

    /** {@snippet lang=c : char **xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *num); } */
    static MemorySegment xs_directory(MemorySegment errno, MemorySegment h, int t, MemorySegment path, MemorySegment num) {
        try { return (MemorySegment) Handles.xs_directory.invokeExact(errno, h, t, path, num); } catch (Throwable t2) { throw rethrow(t2); }
    }

    /** {@snippet lang=c : struct xs_permissions *xs_get_permissions(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *num); } */
    static MemorySegment xs_get_permissions(MemorySegment errno, MemorySegment h, int t, MemorySegment path, MemorySegment num) {
        try { return (MemorySegment) Handles.xs_get_permissions.invokeExact(errno, h, t, path, num); } catch (Throwable t2) { throw rethrow(t2); }
    }

    /** {@snippet lang=c : bool xs_set_permissions(struct xs_handle *h, xs_transaction_t t, const char *path, struct xs_permissions *perms, unsigned int num_perms); } */
    static boolean xs_set_permissions(MemorySegment errno, MemorySegment h, int t, MemorySegment path, MemorySegment perms, int num) {
        try { return (boolean) Handles.xs_set_permissions.invokeExact(errno, h, t, path, perms, num); } catch (Throwable t2) { throw rethrow(t2); }
    }

    /** {@snippet lang=c : bool xs_watch(struct xs_handle *h, const char *path, const char *token); } */
    static boolean xs_watch(MemorySegment errno, MemorySegment h, MemorySegment path, MemorySegment token) {
        try { return (boolean) Handles.xs_watch.invokeExact(errno, h, path, token); } catch (Throwable t2) { throw rethrow(t2); }
    }

    /** {@snippet lang=c : bool xs_unwatch(struct xs_handle *h, const char *path, const char *token); } */
    static boolean xs_unwatch(MemorySegment errno, MemorySegment h, MemorySegment path, MemorySegment token) {
        try { return (boolean) Handles.xs_unwatch.invokeExact(errno, h, path, token); } catch (Throwable t2) { throw rethrow(t2); }
    }

    /** {@snippet lang=c : int xs_fileno(struct xs_handle *h); } */
    static int xs_fileno(MemorySegment errno, MemorySegment h) {
        try { return (int) Handles.xs_fileno.invokeExact(errno, h); } catch (Throwable t2) { throw rethrow(t2); }
    }

    /** {@snippet lang=c : char **xs_check_watch(struct xs_handle *h); } (NULL + EAGAIN when none is pending) */
    static MemorySegment xs_check_watch(MemorySegment errno, MemorySegment h) {
        try { return (MemorySegment) Handles.xs_check_watch.invokeExact(errno, h); } catch (Throwable t2) { throw rethrow(t2); }
    }

    /** {@snippet lang=c : xs_transaction_t xs_transaction_start(struct xs_handle *h); } (XBT_NULL on failure) */
    static int xs_transaction_start(MemorySegment errno, MemorySegment h) {
        try { return (int) Handles.xs_transaction_start.invokeExact(errno, h); } catch (Throwable t2) { throw rethrow(t2); }
    }

    /** {@snippet lang=c : bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort); } (false + EAGAIN: retry) */
    static boolean xs_transaction_end(MemorySegment errno, MemorySegment h, int t, boolean abort) {
        try { return (boolean) Handles.xs_transaction_end.invokeExact(errno, h, t, abort); } catch (Throwable t2) { throw rethrow(t2); }
    }

    /** {@snippet lang=c : char *xs_get_domain_path(struct xs_handle *h, unsigned int domid); } */
    static MemorySegment xs_get_domain_path(MemorySegment errno, MemorySegment h, int domid) {
        try { return (MemorySegment) Handles.xs_get_domain_path.invokeExact(errno, h, domid); } catch (Throwable t2) { throw rethrow(t2); }
    }
}
