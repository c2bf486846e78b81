package compart.xl.vchan;

import compart.xl.foreign.NativeLibrary;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static compart.xl.foreign.NativeLibrary.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Raw FFM binding to {@code libxenvchan.so.4.17} (libxenvchan.h), jextract style. {@code struct libxenvchan}
 * stays opaque: Compart never touches its bitfields (the {@code blocking} bit); {@link Vchan} blocks with
 * {@code poll(2)} on the event fd instead.
 */
final class VchanNative {
    private VchanNative() {
    }

    static final String SONAME = "libxenvchan.so.4.17";

    static NativeLibrary load() {
        return NativeLibrary.load(SONAME, "libxenmisc4.17");
    }

    static final class Handles {
        private Handles() {
        }

        static final NativeLibrary LIB = load();
        private static final FunctionDescriptor INT_CTRL = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        private static final FunctionDescriptor IO = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG);

        static final MethodHandle libxenvchan_server_init = LIB.downcall("libxenvchan_server_init",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle libxenvchan_client_init = LIB.downcall("libxenvchan_client_init",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS), NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle libxenvchan_close = LIB.downcall("libxenvchan_close", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle libxenvchan_recv = LIB.downcall("libxenvchan_recv", IO);
        static final MethodHandle libxenvchan_read = LIB.downcall("libxenvchan_read", IO);
        static final MethodHandle libxenvchan_send = LIB.downcall("libxenvchan_send", IO);
        static final MethodHandle libxenvchan_write = LIB.downcall("libxenvchan_write", IO);
        static final MethodHandle libxenvchan_wait = LIB.downcall("libxenvchan_wait", INT_CTRL);
        static final MethodHandle libxenvchan_fd_for_select = LIB.downcall("libxenvchan_fd_for_select", INT_CTRL);
        static final MethodHandle libxenvchan_is_open = LIB.downcall("libxenvchan_is_open", INT_CTRL);
        static final MethodHandle libxenvchan_data_ready = LIB.downcall("libxenvchan_data_ready", INT_CTRL);
        static final MethodHandle libxenvchan_buffer_space = LIB.downcall("libxenvchan_buffer_space", INT_CTRL);
    }

    /** {@snippet lang=c : struct libxenvchan *libxenvchan_server_init(struct xentoollog_logger *logger, int domain, const char* xs_path, size_t read_min, size_t write_min); } */
    static MemorySegment libxenvchan_server_init(MemorySegment errno, MemorySegment logger, int domain, MemorySegment xsPath,
                                                 long readMin, long writeMin) {
        try { return (MemorySegment) Handles.libxenvchan_server_init.invokeExact(errno, logger, domain, xsPath, readMin, writeMin); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : struct libxenvchan *libxenvchan_client_init(struct xentoollog_logger *logger, int domain, const char* xs_path); } */
    static MemorySegment libxenvchan_client_init(MemorySegment errno, MemorySegment logger, int domain, MemorySegment xsPath) {
        try { return (MemorySegment) Handles.libxenvchan_client_init.invokeExact(errno, logger, domain, xsPath); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxenvchan_close(struct libxenvchan *ctrl); } */
    static void libxenvchan_close(MemorySegment ctrl) {
        try { Handles.libxenvchan_close.invokeExact(ctrl); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxenvchan_recv(struct libxenvchan *ctrl, void *data, size_t size); } */
    static int libxenvchan_recv(MemorySegment ctrl, MemorySegment data, long size) {
        try { return (int) Handles.libxenvchan_recv.invokeExact(ctrl, data, size); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxenvchan_read(struct libxenvchan *ctrl, void *data, size_t size); } */
    static int libxenvchan_read(MemorySegment ctrl, MemorySegment data, long size) {
        try { return (int) Handles.libxenvchan_read.invokeExact(ctrl, data, size); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxenvchan_send(struct libxenvchan *ctrl, const void *data, size_t size); } */
    static int libxenvchan_send(MemorySegment ctrl, MemorySegment data, long size) {
        try { return (int) Handles.libxenvchan_send.invokeExact(ctrl, data, size); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxenvchan_write(struct libxenvchan *ctrl, const void *data, size_t size); } */
    static int libxenvchan_write(MemorySegment ctrl, MemorySegment data, long size) {
        try { return (int) Handles.libxenvchan_write.invokeExact(ctrl, data, size); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxenvchan_wait(struct libxenvchan *ctrl); } */
    static int libxenvchan_wait(MemorySegment ctrl) {
        try { return (int) Handles.libxenvchan_wait.invokeExact(ctrl); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxenvchan_fd_for_select(struct libxenvchan *ctrl); } */
    static int libxenvchan_fd_for_select(MemorySegment ctrl) {
        try { return (int) Handles.libxenvchan_fd_for_select.invokeExact(ctrl); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxenvchan_is_open(struct libxenvchan* ctrl); } */
    static int libxenvchan_is_open(MemorySegment ctrl) {
        try { return (int) Handles.libxenvchan_is_open.invokeExact(ctrl); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxenvchan_data_ready(struct libxenvchan *ctrl); } */
    static int libxenvchan_data_ready(MemorySegment ctrl) {
        try { return (int) Handles.libxenvchan_data_ready.invokeExact(ctrl); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxenvchan_buffer_space(struct libxenvchan *ctrl); } */
    static int libxenvchan_buffer_space(MemorySegment ctrl) {
        try { return (int) Handles.libxenvchan_buffer_space.invokeExact(ctrl); } catch (Throwable t) { throw rethrow(t); }
    }
}
