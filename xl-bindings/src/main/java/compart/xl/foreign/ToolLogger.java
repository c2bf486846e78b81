package compart.xl.foreign;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A {@code xentoollog_logger} implemented in Java: libxl, libxenctrl and libxenvchan log through it into SLF4J
 * (logger {@code compart.xl.native.<context>}, e.g. {@code compart.xl.native.libxl}).
 *
 * <p>The logger is one static struct of three upcall function pointers that lives for the whole JVM (libxl
 * keeps the pointer in every ctx). Messages are formatted with {@code vsnprintf} on the calling thread, which
 * relies on x86-64 SysV passing a {@code va_list} argument as a pointer. The last few messages of level WARN
 * and above are also kept per thread so that the caller can put them into its exception message
 * ({@link #takeRecentErrors()}). Upcalls never let an exception escape (that would crash the JVM).
 */
public final class ToolLogger {
    /** {@snippet lang=c : typedef enum xentoollog_level { XTL_NONE, XTL_DEBUG, ... XTL_CRITICAL } } */
    public static final int XTL_DEBUG = 1, XTL_VERBOSE = 2, XTL_DETAIL = 3, XTL_PROGRESS = 4, XTL_INFO = 5,
            XTL_NOTICE = 6, XTL_WARN = 7, XTL_ERROR = 8, XTL_CRITICAL = 9;

    /**
     * {@snippet lang=c :
     * struct xentoollog_logger {
     *     void (*vmessage)(struct xentoollog_logger *logger, xentoollog_level level, int errnoval,
     *                      const char *context, const char *format, va_list al);
     *     void (*progress)(struct xentoollog_logger *logger, const char *context, const char *doing_what,
     *                      int percent, unsigned long done, unsigned long total);
     *     void (*destroy)(struct xentoollog_logger *logger);
     * };
     * }
     */
    public static final StructLayout XENTOOLLOG_LOGGER = MemoryLayout.structLayout(
            ADDRESS.withName("vmessage"), ADDRESS.withName("progress"), ADDRESS.withName("destroy"))
            .withName("xentoollog_logger");

    private static final int MESSAGE_BUFFER = 4096;
    private static final int KEPT_ERRORS = 4;
    private static final ThreadLocal<Deque<String>> RECENT = ThreadLocal.withInitial(ArrayDeque::new);
    /**
     * The last messages of level WARN and above of every thread. libxl runs an operation's callbacks (a hotplug
     * script's end or timeout, a device's backend state) on whichever thread is in its event loop, often not the
     * caller's: their errors are found here.
     */
    private static final Deque<Logged> EVERY_THREAD = new ArrayDeque<>();
    private static final ThreadLocal<long[]> MARK = ThreadLocal.withInitial(() -> new long[1]);
    private static long logged;

    /** One message of {@link #EVERY_THREAD}: its number, the thread that logged it, the text. */
    private record Logged(long number, Thread thread, String text) {}

    private ToolLogger() {
    }

    private static final class Holder {
        static final MemorySegment LOGGER = create();

        private static MemorySegment create() {
            try {
                var lookup = MethodHandles.lookup();
                MemorySegment vmessage = NativeLibrary.upcall(
                        lookup.findStatic(ToolLogger.class, "vmessage", MethodType.methodType(void.class,
                                MemorySegment.class, int.class, int.class, MemorySegment.class, MemorySegment.class,
                                MemorySegment.class)),
                        FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
                MemorySegment progress = NativeLibrary.upcall(
                        lookup.findStatic(ToolLogger.class, "progress", MethodType.methodType(void.class,
                                MemorySegment.class, MemorySegment.class, MemorySegment.class, int.class, long.class,
                                long.class)),
                        FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG));
                MemorySegment destroy = NativeLibrary.upcall(
                        lookup.findStatic(ToolLogger.class, "destroy", MethodType.methodType(void.class,
                                MemorySegment.class)),
                        FunctionDescriptor.ofVoid(ADDRESS));
                MemorySegment logger = Arena.global().allocate(XENTOOLLOG_LOGGER);
                logger.set(ADDRESS, 0, vmessage);
                logger.set(ADDRESS, 8, progress);
                logger.set(ADDRESS, 16, destroy);
                return logger;
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** @return the {@code xentoollog_logger *} to pass to libxl / libxenctrl / libxenvchan; never freed */
    public static MemorySegment logger() {
        return Holder.LOGGER;
    }

    /** Forgets the messages of level WARN and above remembered on this thread. Call before a native call. */
    public static void clearRecentErrors() {
        RECENT.get().clear();
        synchronized (EVERY_THREAD) {
            MARK.get()[0] = logged;
        }
    }

    /**
     * @return the messages of level WARN and above logged on this thread since the last clear, then the last few
     *     that other threads logged since then (marked "on thread NAME"), and clears them
     */
    public static List<String> takeRecentErrors() {
        Deque<String> recent = RECENT.get();
        var copy = new ArrayList<>(recent);
        recent.clear();
        Thread me = Thread.currentThread();
        synchronized (EVERY_THREAD) {
            long mark = MARK.get()[0];
            List<Logged> others = EVERY_THREAD.stream().filter(l -> l.number() > mark && l.thread() != me).toList();
            others.subList(Math.max(0, others.size() - KEPT_ERRORS), others.size())
                    .forEach(l -> copy.add("(on thread " + l.thread().getName() + ") " + l.text()));
            MARK.get()[0] = logged;
        }
        return List.copyOf(copy);
    }

    @SuppressWarnings("unused") // upcall
    private static void vmessage(MemorySegment self, int level, int errnoval, MemorySegment context,
                                 MemorySegment format, MemorySegment vaList) {
        try {
            String name = NativeLibrary.string(context);
            Logger log = LoggerFactory.getLogger("compart.xl.native." + (name == null ? "xen" : name));
            boolean keep = level >= XTL_WARN;
            if (!keep && !enabled(log, level)) {
                return; // the va_list is left unread, which C allows
            }
            String text;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buffer = arena.allocate(MESSAGE_BUFFER);
                LibcNative.vsnprintf(buffer, MESSAGE_BUFFER, format, vaList);
                text = buffer.getString(0).strip();
            }
            if (errnoval > 0) {
                text = text + ": " + LibcNative.describeErrno(errnoval);
            }
            if (keep) {
                Deque<String> recent = RECENT.get();
                if (recent.size() == KEPT_ERRORS) {
                    recent.removeFirst();
                }
                String kept = (name == null ? "" : name + ": ") + text;
                recent.addLast(kept);
                synchronized (EVERY_THREAD) {
                    if (EVERY_THREAD.size() == 4 * KEPT_ERRORS) {
                        EVERY_THREAD.removeFirst();
                    }
                    EVERY_THREAD.addLast(new Logged(++logged, Thread.currentThread(), kept));
                }
            }
            switch (level) {
                case XTL_DEBUG, XTL_VERBOSE -> log.trace("{}", text);
                case XTL_DETAIL, XTL_PROGRESS -> log.debug("{}", text);
                case XTL_INFO, XTL_NOTICE -> log.info("{}", text);
                case XTL_WARN -> log.warn("{}", text);
                default -> log.error("{}", text);
            }
        } catch (Throwable t) {
            // never let anything escape into C
        }
    }

    @SuppressWarnings("unused") // upcall
    private static void progress(MemorySegment self, MemorySegment context, MemorySegment doingWhat, int percent,
                                 long done, long total) {
        try {
            String name = NativeLibrary.string(context);
            LoggerFactory.getLogger("compart.xl.native." + (name == null ? "xen" : name))
                    .debug("{}: {}% ({}/{})", NativeLibrary.string(doingWhat), percent, done, total);
        } catch (Throwable t) {
            // never let anything escape into C
        }
    }

    @SuppressWarnings("unused") // upcall
    private static void destroy(MemorySegment self) {
        // The logger is static and lives as long as the JVM.
    }

    private static boolean enabled(Logger log, int level) {
        return switch (level) {
            case XTL_DEBUG, XTL_VERBOSE -> log.isTraceEnabled();
            case XTL_DETAIL, XTL_PROGRESS -> log.isDebugEnabled();
            case XTL_INFO, XTL_NOTICE -> log.isInfoEnabled();
            default -> true;
        };
    }
}
