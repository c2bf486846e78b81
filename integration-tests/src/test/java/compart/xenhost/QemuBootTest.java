package compart.xenhost;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The boot's watch over a Xen host, with a shell script standing in for QEMU's serial console: a host that goes
 * silent is called stalled, asked with Xen's debug keys, and killed long before the deadline.
 */
class QemuBootTest {
    private static final Duration DEADLINE = Duration.ofMinutes(2);
    private static final QemuBoot.Watch WATCH =
            new QemuBoot.Watch(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofMinutes(10));

    private final List<String> echoed = new CopyOnWriteArrayList<>();

    @Test
    void aHostThatFallsSilent_isStalled_andXensAnswerToTheDebugKeysIsShown(@TempDir Path dir) throws Exception {
        // "Xen" answers the three Ctrl-A and 'd' on its serial input; dom0 said it was ready, then nothing more
        String console = """
                echo 'COMPART-XENHOST: DOM0-READY'
                echo 'COMPART-XENHOST: test started ScenarioIT.hvmStandaloneVm_starts'
                key=$(dd bs=4 count=1 2>/dev/null | od -An -c | tr -d ' ')
                echo "(XEN) '$key' pressed -> dumping registers"
                echo '(XEN) *** Dumping CPU0 guest state (d1v0): ***'
                exec sleep 60
                """;

        QemuBoot.Outcome outcome = boot(dir, console);

        assertThat(outcome.stalled()).isTrue();
        assertThat(outcome.timedOut()).isFalse();
        assertThat(outcome.elapsed()).isLessThan(DEADLINE);
        assertThat(outcome.stall().orElseThrow())
                .contains("its last: COMPART-XENHOST: test started ScenarioIT.hvmStandaloneVm_starts")
                .contains("(Xen lives; dom0 or the tests do not)")
                .contains("(XEN) '001001001d' pressed")
                .contains("Dumping CPU0 guest state (d1v0)");
        assertThat(echoed).anyMatch(line -> line.startsWith("[xenhost] STALLED: no line from dom0 for"));
        assertThat(Files.readString(dir.resolve("serial.log"))).contains("Dumping CPU0 guest state");
    }

    @Test
    void aMachineThatAnswersNothing_isReportedAsNoLongerRunning(@TempDir Path dir) throws Exception {
        QemuBoot.Outcome outcome = boot(dir, "echo 'COMPART-XENHOST: DOM0-READY'; exec sleep 60\n");

        assertThat(outcome.stalled()).isTrue();
        assertThat(outcome.stall().orElseThrow()).contains("none: the emulated machine itself no longer runs");
    }

    @Test
    void pulseLines_keepTheHostAlive_butStayOutOfTheBuildOutput(@TempDir Path dir) throws Exception {
        String console = """
                echo 'COMPART-XENHOST: DOM0-READY'
                for i in 1 2 3 4; do sleep 1; echo "COMPART-XENHOST: %s uptime ${i}s"; done
                echo 'COMPART-XENHOST: RESULT rc=0'
                """.formatted(PayloadScript.PULSE);

        QemuBoot.Outcome outcome = boot(dir, console);

        assertThat(outcome.stalled()).isFalse();
        assertThat(outcome.result()).hasValue(0);
        assertThat(echoed).noneMatch(line -> line.contains(PayloadScript.PULSE));
        assertThat(Files.readString(dir.resolve("serial.log"))).contains(PayloadScript.PULSE + " uptime 4s");
    }

    @Test
    void silenceBeforeDom0IsReady_isNoStall_theDeadlineJudgesIt(@TempDir Path dir) throws Exception {
        QemuBoot.Outcome outcome = QemuBoot.run(List.of("sh", "-c", "sleep 5; echo 'COMPART-XENHOST: RESULT rc=3'"),
                dir.resolve("serial.log"), DEADLINE, WATCH, echoed::add);

        assertThat(outcome.stalled()).isFalse();
        assertThat(outcome.result()).hasValue(3);
    }

    @Test
    void whileDom0Runs_theSerialPortIsNudgedWithCtrlASixTimes(@TempDir Path dir) throws Exception {
        // the stand-in shows what reached its serial input (in octal), then reports its result
        Path script = Files.writeString(dir.resolve("console.sh"), """
                echo 'COMPART-XENHOST: DOM0-READY'
                echo "(XEN) got $(dd bs=12 count=1 iflag=fullblock 2>/dev/null | od -An -c | tr -d ' ')"
                echo 'COMPART-XENHOST: RESULT rc=0'
                """);
        var watch = new QemuBoot.Watch(Duration.ofMinutes(1), Duration.ofSeconds(2), Duration.ofSeconds(1));

        QemuBoot.Outcome outcome = QemuBoot.run(List.of("sh", script.toString()), dir.resolve("serial.log"),
                DEADLINE, watch, echoed::add);

        assertThat(outcome.result()).hasValue(0);
        assertThat(Files.readString(dir.resolve("serial.log"))).contains("(XEN) got " + "001".repeat(12));
    }

    private QemuBoot.Outcome boot(Path dir, String console) throws Exception {
        Path script = Files.writeString(dir.resolve("console.sh"), console);
        return QemuBoot.run(List.of("sh", script.toString()), dir.resolve("serial.log"), DEADLINE, WATCH,
                echoed::add);
    }
}
