package compart.xenhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PayloadScriptTest {
    private final PayloadScript payload = new PayloadScript("/mnt/host",
            List.of("lib/a.jar", "lib/b c.jar", "lib/compart-xl-bindings-0.1.0-SNAPSHOT-tests.jar"),
            "test-classes", "^.+IT$", "xen", "15m");

    @Test
    void javaCommand_runsTheConsoleLauncher_onTheTestClasses_withNativeAccess() {
        List<String> argv = payload.javaCommand();

        assertThat(argv.getFirst()).isEqualTo("/opt/jre/bin/java");
        assertThat(argv).contains("--enable-native-access=ALL-UNNAMED",
                "org.junit.platform.console.ConsoleLauncher", "execute",
                "--scan-class-path=/mnt/host/test-classes", "--include-classname=^.+IT$",
                "--reports-dir=/mnt/host/out/junit", "--fail-if-no-tests", "--include-tag=xen",
                "--config=junit.jupiter.execution.timeout.default=15m");
        assertThat(argv.get(argv.indexOf("-cp") + 1)).isEqualTo("/mnt/host/test-classes:/mnt/host/lib/a.jar:"
                + "/mnt/host/lib/b c.jar:/mnt/host/lib/compart-xl-bindings-0.1.0-SNAPSHOT-tests.jar");
    }

    @Test
    void testJarsOfOtherModules_areScannedToo_butPlainJarsAreNot() {
        assertThat(payload.javaCommand().stream().filter(arg -> arg.startsWith("--scan-class-path")))
                .containsExactly("--scan-class-path=/mnt/host/test-classes",
                        "--scan-class-path=/mnt/host/lib/compart-xl-bindings-0.1.0-SNAPSHOT-tests.jar");
    }

    @Test
    void blankTagExpression_addsNoTagFilter() {
        var untagged = new PayloadScript("/mnt/host", List.of(), "test-classes", "^.+IT$", "", "15m");

        assertThat(untagged.javaCommand()).noneMatch(arg -> arg.startsWith("--include-tag"));
    }

    @Test
    void systemProperties_pointTheTestsAtTheGuestAndTheOutDirectory() {
        assertThat(payload.systemProperties())
                .containsEntry("compart.xenhost.guest.kernel", "/mnt/host/guest/vmlinuz")
                .containsEntry("compart.xenhost.guest.initrd", "/mnt/host/guest/initrd.gz")
                .containsEntry("compart.xenhost.out", "/mnt/host/out")
                .containsEntry("compart.test.kernel", "/mnt/host/guest/vmlinuz")
                .containsEntry("compart.test.disk", PayloadScript.DISK);
        assertThat(payload.javaCommand()).contains("-Dcompart.xenhost.guest.kernel=/mnt/host/guest/vmlinuz");
    }

    @Test
    void script_passesEveryArgumentThroughShUnchanged(@TempDir Path dir) throws Exception {
        // Replace java by a printer of its arguments and run the real script with sh.
        String script = payload.text().replace("/opt/jre/bin/java", "printf '%s\\n'")
                .replace("cd /mnt/host || exit 97", "cd " + dir)
                .replace("mkdir -p /mnt/host/out/junit /var/lib/compart-it", "true")
                .replace("truncate -s 64M " + PayloadScript.DISK, "true")
                .replace("truncate -s 16M " + PayloadScript.HOTPLUG_DISK, "true");
        Files.writeString(dir.resolve("run.sh"), script);

        String out = CpioArchiveTest.run(dir, "sh", "run.sh");

        List<String> printed = out.lines().filter(line -> !line.startsWith("COMPART-XENHOST:")).toList();
        assertThat(printed).isEqualTo(payload.javaCommand().subList(1, payload.javaCommand().size()));
    }

    @Test
    void quote_leavesSafeWordsAlone_andSingleQuotesTheRest() {
        assertThat(PayloadScript.quote("--reports-dir=/mnt/host/out")).isEqualTo("--reports-dir=/mnt/host/out");
        assertThat(PayloadScript.quote("^.+IT$")).isEqualTo("'^.+IT$'");
        assertThat(PayloadScript.quote("it's")).isEqualTo("'it'\\''s'");
        assertThat(PayloadScript.quote("")).isEqualTo("''");
    }

    @Test
    void badPatternOrTimeout_isRefused() {
        assertThatThrownBy(() -> new PayloadScript("/mnt/host", List.of(), "t", "(", "xen", "15m"))
                .isInstanceOf(java.util.regex.PatternSyntaxException.class);
        assertThatThrownBy(() -> new PayloadScript("/mnt/host", List.of(), "t", ".*", "xen", "a while"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
