package compart.xl.foreign;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The few libc functions and structs used around Xen calls (jextract style: one handle per function, each
 * quoting its prototype). Layouts are checked against the C headers by {@code LayoutProbeTest}. x86-64 glibc.
 */
public final class LibcNative {
    private LibcNative() {
    }

    /** {@snippet lang=c : struct pollfd { int fd; short events; short revents; }; } */
    public static final StructLayout POLLFD = MemoryLayout.structLayout(
            JAVA_INT.withName("fd"), JAVA_SHORT.withName("events"), JAVA_SHORT.withName("revents")).withName("pollfd");

    /** {@snippet lang=c : struct timeval { time_t tv_sec; suseconds_t tv_usec; }; } */
    public static final StructLayout TIMEVAL = MemoryLayout.structLayout(
            JAVA_LONG.withName("tv_sec"), JAVA_LONG.withName("tv_usec")).withName("timeval");

    /** glibc x86-64 {@code struct sigaction} (the handler union, the 1024-bit mask, flags, restorer). */
    public static final StructLayout SIGACTION = MemoryLayout.structLayout(
            ADDRESS.withName("sa_handler"),
            MemoryLayout.sequenceLayout(16, JAVA_LONG).withName("sa_mask"),
            JAVA_INT.withName("sa_flags"),
            MemoryLayout.paddingLayout(4),
            ADDRESS.withName("sa_restorer")).withName("sigaction");

    public static final int SIGCHLD = 17;
    public static final short POLLIN = 1;
    public static final int SA_SIGINFO = 4;

    private static final class Handles {
        static final Linker LINKER = Linker.nativeLinker();
        static final SymbolLookup LIBC = LINKER.defaultLookup();

        static MethodHandle bind(String name, FunctionDescriptor descriptor, Linker.Option... options) {
            return LINKER.downcallHandle(LIBC.findOrThrow(name), descriptor, options);
        }

        static final MethodHandle FREE = bind("free", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle POLL = bind("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT),
                NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle VSNPRINTF = bind("vsnprintf",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
        static final MethodHandle SIGACTION_FN = bind("sigaction",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle GETTIMEOFDAY = bind("gettimeofday", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle STRERRORNAME_NP = bind("strerrorname_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        static final MethodHandle STRERRORDESC_NP = bind("strerrordesc_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /** {@snippet lang=c : void free(void *ptr); } */
    public static void free(MemorySegment ptr) {
        try {
            Handles.FREE.invokeExact(ptr);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@snippet lang=c : int poll(struct pollfd *fds, nfds_t nfds, int timeout); } (errno captured in state) */
    public static int poll(MemorySegment state, MemorySegment fds, long nfds, int timeoutMillis) {
        try {
            return (int) Handles.POLL.invokeExact(state, fds, nfds, timeoutMillis);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@snippet lang=c : int vsnprintf(char *str, size_t size, const char *format, va_list ap); } */
    public static int vsnprintf(MemorySegment str, long size, MemorySegment format, MemorySegment vaList) {
        try {
            return (int) Handles.VSNPRINTF.invokeExact(str, size, format, vaList);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@snippet lang=c : int sigaction(int signum, const struct sigaction *act, struct sigaction *oldact); } */
    public static int sigaction(int signum, MemorySegment act, MemorySegment oldact) {
        try {
            return (int) Handles.SIGACTION_FN.invokeExact(signum, act, oldact);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@snippet lang=c : int gettimeofday(struct timeval *tv, struct timezone *tz); } */
    public static int gettimeofday(MemorySegment tv, MemorySegment tz) {
        try {
            return (int) Handles.GETTIMEOFDAY.invokeExact(tv, tz);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** @return e.g. {@code "ENOENT (No such file or directory)"}, via glibc's thread-safe strerror{name,desc}_np */
    public static String describeErrno(int errno) {
        try {
            String name = NativeLibrary.string((MemorySegment) Handles.STRERRORNAME_NP.invokeExact(errno));
            String description = NativeLibrary.string((MemorySegment) Handles.STRERRORDESC_NP.invokeExact(errno));
            return (name == null ? "errno " + errno : name) + " (" + (description == null ? "unknown" : description) + ")";
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** @return the current SIGCHLD handler address (0 = SIG_DFL, 1 = SIG_IGN) */
    public static long sigchldHandler() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment old = arena.allocate(SIGACTION);
            if (sigaction(SIGCHLD, MemorySegment.NULL, old) != 0) {
                throw new IllegalStateException("sigaction(SIGCHLD) query failed");
            }
            return old.get(ADDRESS, SIGACTION.byteOffset(MemoryLayout.PathElement.groupElement("sa_handler"))).address();
        }
    }

    /** Fills {@code tv} (a {@link #TIMEVAL}) with the current time. */
    public static void now(MemorySegment tv) {
        gettimeofday(tv, MemorySegment.NULL);
    }
}
