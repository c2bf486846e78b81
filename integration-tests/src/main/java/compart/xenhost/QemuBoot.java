package compart.xenhost;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
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
 *
 * <p>A stall ends it too: once dom0 is ready, it prints a line at least every {@link PayloadScript#PULSE_SECONDS}
 * (the tests' progress, or run.sh's pulse). When no dom0 line came for {@code stallAfter}, the machine is
 * asked what it does -- Xen's debug key {@code d} (each CPU's registers and stack) through the serial port, after
 * the three Ctrl-A that hand the serial input to Xen -- the answer goes to the build output, and QEMU is killed.
 * Whether Xen answered tells a dead emulated machine from a dom0 that Xen no longer runs.
 *
 * <p>What the first answer showed (2026-12-07): Xen idle in its idle loop, woken by the key's serial interrupt into
 * its timer softirq, printing "Platform timer appears to have unexpectedly wrapped 10 or more times", and dom0
 * printing "soft lockup - CPU#0 stuck for 546s" and going on as if nothing had happened. Under TCG with a loaded
 * host, the emulated Xen can halt waiting for a timer interrupt that never comes; any interrupt wakes it. So while
 * dom0 runs, the serial port gets a <em>nudge</em> every {@link Watch#nudgeEvery}: six Ctrl-A, which hand Xen's
 * serial input to Xen and back to dom0 (two lines of Xen's in the console log, nothing for dom0).
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
     * @param stall       what was seen when dom0 stalled (its last line, Xen's answer), empty if it did not
     */
    public record Outcome(OptionalInt result, boolean timedOut, int qemuExit, Duration dom0Ready, Duration elapsed,
                          Optional<String> stall) {
        /** True when the host stopped printing and was killed for it (not at the deadline). */
        public boolean stalled() {
            return stall.isPresent();
        }
    }

    /** Xen's console: three Ctrl-A move the serial input from dom0 to Xen; {@code d} dumps each CPU. */
    static final String XEN_DEBUG_KEYS = "\u0001\u0001\u0001d";
    /** To Xen and back: an interrupt for Xen, no input for dom0. */
    static final String NUDGE = "\u0001".repeat(6);
    /** How many lines of Xen's answer to the debug keys are shown. */
    private static final int ANSWER_LINES = 40;

    /**
     * How the boot watches the host.
     *
     * @param stallAfter silence of dom0 (after DOM0-READY) that counts as a stall
     * @param answerWait how long Xen's answer to the debug keys is awaited
     * @param nudgeEvery the period of the nudge while dom0 runs
     */
    public record Watch(Duration stallAfter, Duration answerWait, Duration nudgeEvery) {
        /** The Xen host's: a stall after five missed pulses of run.sh, a nudge every 30 s. */
        public static final Watch XEN_HOST = new Watch(Duration.ofSeconds(5L * PayloadScript.PULSE_SECONDS),
                Duration.ofSeconds(20), Duration.ofSeconds(30));
    }

    private QemuBoot() {}

    /**
     * @param argv      the QEMU command line
     * @param serialLog file receiving the whole console
     * @param timeout   deadline for the whole run
     * @param watch     stall and nudge periods
     * @param echo      receives the lines worth showing in the build output
     */
    public static Outcome run(List<String> argv, Path serialLog, Duration timeout, Watch watch,
                              Consumer<String> echo) throws IOException, InterruptedException {
        Duration stallAfter = watch.stallAfter();
        Duration answerWait = watch.answerWait();
        long start = System.nanoTime();
        Process qemu = new ProcessBuilder(argv).redirectErrorStream(true).start(); // stdin: the serial port's input
        Thread killer = new Thread(qemu::destroyForcibly, "qemu-killer");
        Runtime.getRuntime().addShutdownHook(killer); // Ctrl-C on Maven must not leave QEMU running
        var state = new Object() {
            volatile Integer result;
            volatile Duration ready;
            volatile long resultAt;
            volatile long lastDom0Line = System.nanoTime();
            volatile String lastDom0Text = "";
            final List<String> answer = new CopyOnWriteArrayList<>();
            volatile boolean asking;
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
                    if (state.asking && state.answer.size() < ANSWER_LINES) {
                        state.answer.add(line);
                    }
                    if (line.contains(MARK)) {
                        state.lastDom0Line = System.nanoTime();
                        state.lastDom0Text = line.substring(line.indexOf(MARK));
                        if (line.contains(MARK + PayloadScript.PULSE)) {
                            continue; // in serial.log only: a pulse says nothing the build output needs
                        }
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
        String stall = null;
        long nudged = System.nanoTime();
        while (!qemu.waitFor(1, TimeUnit.SECONDS)) {
            long now = System.nanoTime();
            if (state.ready != null && state.result == null && now - nudged > watch.nudgeEvery().toNanos()) {
                nudged = now;
                send(qemu, NUDGE);
            }
            if (now > deadline) {
                timedOut = true;
                echo.accept("[xenhost] TIMEOUT: QEMU still running after " + timeout.toMinutes() + " min; killing it");
                break;
            }
            if (state.result != null && now - state.resultAt > TimeUnit.MINUTES.toNanos(1)) {
                echo.accept("[xenhost] dom0 reported its result but QEMU did not exit within a minute; killing it");
                break;
            }
            long silent = now - state.lastDom0Line;
            if (state.ready != null && state.result == null && silent > stallAfter.toNanos()) {
                stall = askTheStalledMachine(qemu, state.answer, () -> state.asking = true, answerWait,
                        Duration.ofNanos(silent), state.lastDom0Text);
                echo.accept("[xenhost] STALLED: " + stall.replace("\n", "\n[xenhost]   "));
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
                state.ready, Duration.ofNanos(System.nanoTime() - start), Optional.ofNullable(stall));
    }

    /**
     * Sends Xen's debug keys to the stalled machine and collects what its console says within {@code answerWait}.
     *
     * @return a report: how long dom0 was silent, its last line, and Xen's answer (or that none came)
     */
    private static String askTheStalledMachine(Process qemu, List<String> answer, Runnable startListening,
                                               Duration answerWait, Duration silent, String lastDom0Line)
            throws InterruptedException {
        startListening.run();
        try {
            sendOrFail(qemu, XEN_DEBUG_KEYS);
        } catch (IOException e) {
            return "no line from dom0 for " + silent.toSeconds() + " s; its last: " + lastDom0Line
                    + "\nthe debug keys could not be sent to the serial port (" + e.getMessage() + ")";
        }
        Thread.sleep(answerWait.toMillis());
        return stallReport(silent, lastDom0Line, answerWait, List.copyOf(answer));
    }

    /** Writes to the serial port's input; a QEMU that is gone is noticed by the caller's wait. */
    private static void send(Process qemu, String keys) {
        try {
            sendOrFail(qemu, keys);
        } catch (IOException ignored) {
            // QEMU is exiting
        }
    }

    private static void sendOrFail(Process qemu, String keys) throws IOException {
        var in = qemu.getOutputStream();
        in.write(keys.getBytes(StandardCharsets.US_ASCII));
        in.flush();
    }

    static String stallReport(Duration silent, String lastDom0Line, Duration answerWait, List<String> answer) {
        var report = new StringBuilder("no line from dom0 for " + silent.toSeconds() + " s; its last: " + lastDom0Line
                + "\nXen's answer to debug key 'd' within " + answerWait.toSeconds() + " s: ");
        if (answer.isEmpty()) {
            return report.append("none: the emulated machine itself no longer runs (or Xen's console is stuck)")
                    .toString();
        }
        report.append(answer.size()).append(" lines (Xen lives; dom0 or the tests do not)");
        answer.forEach(line -> report.append("\n  ").append(line));
        return report.toString();
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
