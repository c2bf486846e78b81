package compart.xl.foreign;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The logger that libxl, libxenctrl and libxenvchan write to, driven by libxentoollog's own variadic
 * {@code xtl_log}, as those libraries call it. A failed native call's exception names the errors logged while it
 * ran: on its own thread, and on the others (libxl runs an operation's callbacks, such as a hotplug script's
 * timeout, on whichever thread is in its event loop).
 */
class ToolLoggerTest {
    private static final int XTL_ERROR = 8;
    private static final int XTL_INFO = 4;
    private static MethodHandle xtlLog;

    @BeforeAll
    static void bindXtlLog() {
        Path library = Path.of("/usr/lib/x86_64-linux-gnu/libxentoollog.so.1");
        assumeTrue(Files.exists(library), "libxentoollog.so.1 is not installed: apt-get install libxen-dev");
        // void xtl_log(struct xentoollog_logger *logger, xentoollog_level level, int errnoval,
        //              const char *context, const char *format, ...)
        xtlLog = Linker.nativeLinker().downcallHandle(
                SymbolLookup.libraryLookup("libxentoollog.so.1", Arena.global()).findOrThrow("xtl_log"),
                FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS),
                Linker.Option.firstVariadicArg(5));
    }

    static void log(int level, String context, String text) {
        try (Arena arena = Arena.ofConfined()) {
            xtlLog.invokeExact(ToolLogger.logger(), level, 0, arena.allocateFrom(context), arena.allocateFrom("%s"),
                    arena.allocateFrom(text));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow(t);
        }
    }

    @Test
    void anErrorOnTheCallersThread_isTakenOnce() {
        ToolLogger.clearRecentErrors();
        log(XTL_ERROR, "libxl", "libxl_create.c:1672:domcreate_launch_dm: Domain 12:unable to add disk devices");

        assertThat(ToolLogger.takeRecentErrors())
                .containsExactly("libxl: libxl_create.c:1672:domcreate_launch_dm: Domain 12:unable to add disk devices");
        assertThat(ToolLogger.takeRecentErrors()).isEmpty();
    }

    @Test
    void anErrorOfTheEventLoopThread_duringTheCall_isTakenToo_markedWithItsThread() throws Exception {
        ToolLogger.clearRecentErrors();
        Thread loop = Thread.ofPlatform().name("libxl-events").start(() -> log(XTL_ERROR, "libxl",
                "libxl_aoutils.c:539:async_exec_timeout: killing execution of /etc/xen/scripts/block add because of "
                        + "timeout"));
        loop.join();
        log(XTL_ERROR, "libxl", "Domain 12:unable to add disk devices");

        assertThat(ToolLogger.takeRecentErrors()).containsExactly(
                "libxl: Domain 12:unable to add disk devices",
                "(on thread libxl-events) libxl: libxl_aoutils.c:539:async_exec_timeout: killing execution of "
                        + "/etc/xen/scripts/block add because of timeout");
    }

    @Test
    void otherThreadsErrorsBeforeTheCall_andInformation_areLeftOut() throws Exception {
        Thread before = Thread.ofPlatform().start(() -> log(XTL_ERROR, "libxl", "an earlier operation failed"));
        before.join();
        ToolLogger.clearRecentErrors();
        log(XTL_INFO, "libxl", "just saying");

        assertThat(ToolLogger.takeRecentErrors()).isEmpty();
    }

    @Test
    void onlyTheLastFewErrorsOfOtherThreads_areKept() throws Exception {
        ToolLogger.clearRecentErrors();
        Thread loop = Thread.ofPlatform().name("busy").start(() -> {
            for (int i = 1; i <= 10; i++) {
                log(XTL_ERROR, "libxl", "error " + i);
            }
        });
        loop.join();

        List<String> taken = ToolLogger.takeRecentErrors();
        assertThat(taken).hasSize(4).last().isEqualTo("(on thread busy) libxl: error 10");
    }
}
