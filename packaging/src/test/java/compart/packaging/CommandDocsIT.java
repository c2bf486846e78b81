package compart.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The man page sources and bash completions that {@code package} writes from the picocli models
 * ({@link CommandDocs}) cover every command of {@code bin/} and every subcommand, say what {@code --help} says, and
 * the completions complete in a real bash.
 */
class CommandDocsIT {

    private static final Path TARGET = Processes.ROOT.resolve("packaging/target");

    @TestFactory
    Stream<DynamicTest> everyCommand_hasAManPageSource_withItsOptions() throws IOException {
        return Launcher.all(Processes.ROOT.resolve("bin")).stream().map(l -> DynamicTest.dynamicTest(l.name(), () -> {
            Path adoc = TARGET.resolve("man/adoc/" + l.name() + ".adoc");
            assertThat(adoc).isRegularFile();
            String text = Files.readString(adoc);
            assertThat(text).contains(":doctype: manpage", "= " + l.name() + "(1)", "== Synopsis", "== Options",
                    "*-h*, *--help*");
        }));
    }

    @Test
    void subcommands_haveTheirOwnPages() {
        assertThat(TARGET.resolve("man/adoc/qvm-volume-list.adoc")).isRegularFile();
        assertThat(TARGET.resolve("man/adoc/qvm-pool-dedup.adoc")).isRegularFile();
        assertThat(TARGET.resolve("man/adoc/qvm-volume.adoc")).content().contains("xref:qvm-volume-list.adoc");
    }

    @Test
    void manPage_describesTheOptionsThatHelpPrints() throws Exception {
        var help = Processes.run(Map.of(), Processes.ROOT.resolve("bin/qvm-shutdown").toString(), "--help");
        String adoc = Files.readString(TARGET.resolve("man/adoc/qvm-shutdown.adoc"));
        for (String option : new String[] {"--wait", "--timeout", "--force", "--all", "--exclude"}) {
            assertThat(help.output()).contains(option);
            assertThat(adoc).contains("*" + option + "*");
        }
    }

    @TestFactory
    Stream<DynamicTest> everyCommand_hasABashCompletion() throws IOException {
        return Launcher.all(Processes.ROOT.resolve("bin")).stream().map(l -> DynamicTest.dynamicTest(l.name(), () -> {
            Path script = TARGET.resolve("completion/" + l.name());
            var r = Processes.run(Map.of(), "bash", "-c", "source \"$0\" && complete -p \"$1\"", script.toString(),
                    l.name());
            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output()).contains("-F ").endsWith(" " + l.name() + "\n");
        }));
    }

    @Test
    void bashCompletion_completesOptionsAndSubcommands() throws Exception {
        assertThat(complete("qvm-ls", "qvm-ls --fo")).contains("--format");
        assertThat(complete("qvm-shutdown", "qvm-shutdown --ti")).containsExactly("--timeout");
        assertThat(complete("qvm-volume", "qvm-volume re")).contains("resize", "revert");
        assertThat(complete("qubes-policy-lint", "qubes-policy-lint --leg")).containsExactly("--legacy-dir");
    }

    /** Runs the command's completion function in bash on a command line (cursor at its end). */
    private static String[] complete(String command, String line) throws Exception {
        String script = TARGET.resolve("completion/" + command).toString();
        String program = """
                source "$0" 2>/dev/null
                read -r -a COMP_WORDS <<< "$1"
                COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
                COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
                fn=$(complete -p "${COMP_WORDS[0]}" | sed -E 's/.* -F ([^ ]+) .*/\\1/')
                "$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" 2>/dev/null
                printf '%s\\n' "${COMPREPLY[@]}"
                """;
        var r = Processes.run(Map.of(), "bash", "-c", program, script, line);
        assertThat(r.exitCode()).as(r.output()).isZero();
        return r.output().lines().map(String::strip).filter(s -> !s.isEmpty()).toArray(String[]::new);
    }
}
