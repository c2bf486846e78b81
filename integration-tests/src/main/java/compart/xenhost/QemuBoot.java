package compart.xenhost;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs QEMU once under a deadline and follows its serial console: every line goes to {@code serial.log}; the
 * harness's own lines, the test output and Xen's warnings about guests go to the build output as well.
 *
 * <p>The run is over when QEMU exits (dom0's init powers the machine off after {@code run.sh}) or at the
 * deadline, when QEMU is killed. A {@code RESULT} line with no exit of QEMU within a minute also ends it.
 */
public final class QemuBoot {
    private static final String MARK = "COMPART-XENHOST: ";
    private static final Pattern RESULT = Pattern.compile("COMPART-XENHOST: RESULT rc=(\\d+)");

    /**
     * How a boot ended.
     *
     * @param result      run.sh's exit code from the RESULT line, empty if dom0 never printed one
     * @param timedOut    the deadline passed and QEMU was killed
     * @param qemuExit    QEMU's exit code (-1 if killed)
     * @param dom0Ready   time from QEMU's start to DOM0-READY, null if never seen
     * @param elapsed     time from QEMU's start to its exit
     */
    public record Outcome(OptionalInt result, boolean timedOut, int qemuExit, Duration dom0Ready, Duration elapsed) {}

    private QemuBoot() {}

    /**
     * @param argv      the QEMU command line
     * @param serialLog file receiving the whole console
     * @param timeout   deadline for the whole run
     * @param echo      receives the lines worth showing in the build output
     */
    public static Outcome run(List<String> argv, Path serialLog, Duration timeout, Consumer<String> echo)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        Process qemu = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        Thread killer = new Thread(qemu::destroyForcibly, "qemu-killer");
        Runtime.getRuntime().addShutdownHook(killer); // Ctrl-C on Maven must not leave QEMU running
        var state = new Object() {
            volatile Integer result;
            volatile Duration ready;
            volatile long resultAt;
        };
        Thread reader = Thread.ofPlatform().name("qemu-serial").start(() -> {
            try (var in = new BufferedReader(new InputStreamReader(qemu.getInputStream(), StandardCharsets.UTF_8));
                 Writer log = Files.newBufferedWriter(serialLog, StandardCharsets.UTF_8)) {
                boolean testsRunning = false;
                for (String line; (line = in.readLine()) != null; ) {
                    line = line.replace("\r", "");
                    log.write(line);
                    log.write('\n');
                    log.flush();
                    if (line.contains(MARK)) {
                        echo.accept(line.substring(line.indexOf(MARK)));
                        if (line.contains("DOM0-READY") && state.ready == null) {
                            state.ready = Duration.ofNanos(System.nanoTime() - start);
                        }
                        testsRunning = line.contains("tests start") || (testsRunning && !line.contains("run.sh finished"));
                        Matcher m = RESULT.matcher(line);
                        if (m.find()) {
                            state.result = Integer.parseInt(m.group(1));
                            state.resultAt = System.nanoTime();
                        }
                    } else if (isGuestTrouble(line) || (testsRunning && isTestOutput(line))) {
                        echo.accept(line);
                    }
                }
            } catch (IOException e) {
                echo.accept("[xenhost] reading the QEMU console failed: " + e);
            }
        });
        long deadline = start + timeout.toNanos();
        boolean timedOut = false;
        while (!qemu.waitFor(1, TimeUnit.SECONDS)) {
            long now = System.nanoTime();
            if (now > deadline) {
                timedOut = true;
                echo.accept("[xenhost] TIMEOUT: QEMU still running after " + timeout.toMinutes() + " min; killing it");
                break;
            }
            if (state.result != null && now - state.resultAt > TimeUnit.MINUTES.toNanos(1)) {
                echo.accept("[xenhost] dom0 reported its result but QEMU did not exit within a minute; killing it");
                break;
            }
        }
        if (qemu.isAlive()) {
            qemu.destroyForcibly();
            qemu.waitFor();
        }
        reader.join(TimeUnit.SECONDS.toMillis(30));
        Runtime.getRuntime().removeShutdownHook(killer);
        int exit = timedOut ? -1 : qemu.exitValue();
        return new Outcome(state.result == null ? OptionalInt.empty() : OptionalInt.of(state.result), timedOut, exit,
                state.ready, Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * While the tests run, the console carries their output but also Xen's log ({@code (XEN) ...}) and the
     * debug port of HVM guests ({@code (d1) ...}, SeaBIOS); only the first is worth the build output. The hvc
     * console ends lines with CR CR LF, which reads as an extra empty line each: those are dropped too.
     */
    static boolean isTestOutput(String line) {
        return !line.isBlank() && !line.startsWith("(XEN)") && !line.matches("^\\(d\\d+\\).*");
    }

    /** Xen's messages about guests that went wrong: shown even though Xen's log is otherwise not. */
    static boolean isGuestTrouble(String line) {
        return line.startsWith("(XEN)") && (line.contains("Triple fault") || line.contains("crashed")
                || line.contains("FATAL") || line.contains("Panic"));
    }
}
