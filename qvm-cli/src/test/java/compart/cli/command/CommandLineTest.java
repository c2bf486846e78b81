package compart.cli.command;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every command does before it needs the daemon: {@code --help} (exit 0, a usage text, the socket never
 * touched), usage errors (exit 2: the usage line, then {@code COMMAND: error: WHY}) and a missing daemon (exit 1,
 * one line saying so and how to start it).
 */
class CommandLineTest {
    @TempDir
    Path dir;

    @TestFactory
    Stream<DynamicTest> everyCommand_answersHelp_withoutTheDaemon() {
        return Commands.names().stream().map(name -> DynamicTest.dynamicTest(name + " --help", () -> {
            CliRun r = CliRun.run(dir.resolve("absent.sock"), name, "--help");

            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).startsWith("usage: " + name);
        }));
    }

    @TestFactory
    Stream<DynamicTest> everyCommand_rejectsAnUnknownOption_withExitTwo() {
        return validCommandLines().map(cmd -> DynamicTest.dynamicTest(String.join(" ", cmd) + " --bogus", () -> {
            String[] args = java.util.Arrays.copyOfRange(cmd, 1, cmd.length + 1);
            args[args.length - 1] = "--bogus";
            CliRun r = CliRun.run(dir.resolve("absent.sock"), cmd[0], args);

            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).startsWith("usage: " + cmd[0]).endsWith(": error: Unknown option: '--bogus'\n");
            assertThat(r.out()).isEmpty();
        }));
    }

    /** One valid command line per command (not needing the daemon to be parsed). */
    static Stream<String[]> validCommandLines() {
        return Stream.of(new String[] {"qvm-ls"}, new String[] {"qvm-start", "work"},
                new String[] {"qvm-shutdown", "--all"}, new String[] {"qvm-kill", "work"},
                new String[] {"qvm-pause", "work"}, new String[] {"qvm-unpause", "work"},
                new String[] {"qvm-check", "work"}, new String[] {"qvm-prefs", "work"},
                new String[] {"qubes-prefs"}, new String[] {"qvm-create", "-l", "red", "new"},
                new String[] {"qvm-remove", "-f", "work"}, new String[] {"qvm-clone", "work", "copy"},
                new String[] {"qvm-tags", "work"}, new String[] {"qvm-features", "work"},
                new String[] {"qvm-service", "work"}, new String[] {"qvm-volume", "list"},
                new String[] {"qvm-pool", "list"});
    }

    @TestFactory
    Stream<DynamicTest> everyCommand_withoutDaemon_failsWithOneLineSayingHowToStartIt() {
        Path absent = dir.resolve("absent.sock");
        return validCommandLines().map(cmd -> DynamicTest.dynamicTest(String.join(" ", cmd), () -> {
                    String[] args = java.util.Arrays.copyOfRange(cmd, 1, cmd.length);
                    CliRun r = CliRun.run(absent, cmd[0], args);

                    assertThat(r.code()).isEqualTo(1);
                    assertThat(r.err()).contains("cannot reach compartd: no socket at " + absent)
                            .contains("bin/compartd --hypervisor test");
                    assertThat(r.err().strip()).doesNotContain("\n");
                }));
    }

    @Test
    void verbose_addsTheStackTrace() {
        CliRun r = CliRun.run(dir.resolve("absent.sock"), "qvm-ls", "-v");

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("qvm-ls: error: cannot reach compartd").contains("\tat ");
    }

    @Test
    void missingRequiredArgument_isAUsageError() {
        CliRun r = CliRun.run(dir.resolve("absent.sock"), "qvm-prefs");

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("qvm-prefs: error: Missing required parameter: 'VMNAME'");
    }

    @Test
    void socketOption_winsOverTheEnvironment() {
        Path other = dir.resolve("other.sock");
        CliRun r = CliRun.run(dir.resolve("absent.sock"), "qvm-ls", "--socket", other.toString());

        assertThat(r.err()).contains("no socket at " + other);
    }

    @Test
    void qvmLs_badFormat_isAUsageErrorListingTheChoices() {
        // the format is checked before the daemon is asked anything
        CliRun r = CliRun.run(dir.resolve("absent.sock"), "qvm-ls", "--format", "fancy");

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("qvm-ls: error: argument --format/-o: invalid choice: 'fancy'");
    }

    @Test
    void qvmLs_helpFormats_listsQubesPresets() {
        CliRun r = CliRun.run(null, "qvm-ls", "--help-formats");

        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("Available formats:\n")
                .contains("  simple   NAME,STATE,CLASS,LABEL,TEMPLATE,NETVM\n")
                .contains("  network  NAME,STATE,NETVM,IP,IPBACK,GATEWAY\n");
    }

    @Test
    void glob_matchesLikeFnmatch() {
        assertThat(QvmCommand.glob("sys-*").matcher("sys-net").matches()).isTrue();
        assertThat(QvmCommand.glob("sys-*").matcher("work").matches()).isFalse();
        assertThat(QvmCommand.glob("w?rk").matcher("work").matches()).isTrue();
        assertThat(QvmCommand.glob("[!s]*").matcher("work").matches()).isTrue();
        assertThat(QvmCommand.glob("[!s]*").matcher("sys-net").matches()).isFalse();
        assertThat(QvmCommand.glob("a.b").matcher("axb").matches()).isFalse();
    }

    @Test
    void volumeSizes_parseLikeQubes() {
        assertThat(QvmVolume.parseSize("1024")).isEqualTo(1024);
        assertThat(QvmVolume.parseSize("10G")).isEqualTo(10_000_000_000L);
        assertThat(QvmVolume.parseSize("2 GiB")).isEqualTo(2L << 30);
        assertThat(QvmVolume.parseSize("5mi")).isEqualTo(5L << 20);
        assertThat(QvmVolume.parseSize("3KB")).isEqualTo(3000);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> QvmVolume.parseSize("lots"))
                .hasMessage("Invalid size: LOTS.");
    }
}
