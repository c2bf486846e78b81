package compart.policy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands on real files. The golden outputs were checked line by line against the Qubes Python engine
 * (qubes-core-qrexec) for the same policy, system and queries.
 */
class CommandsTest {
    static final Path RES = Path.of("src/test/resources");
    static final String ROOT = Path.of("").toAbsolutePath().toString();

    @TempDir
    Path tmp;

    record Run(int exit, String out, String err) {
    }

    static synchronized Run run(Object command, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = PolicyCommands.run(command, args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static String[] evalArgs(String... extra) {
        List<String> a = new ArrayList<>(List.of(
                "--policy-dir", "src/test/resources/system-policy/run",
                "--policy-dir", "src/test/resources/system-policy/etc",
                "--legacy-dir", ROOT + "/src/test/resources/system-policy/legacy",
                "--system", "src/test/resources/system-policy/system.json",
                "--queries", "src/test/resources/system-policy/queries"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void eval_onTheSystemPolicy_matchesTheGoldenOutput() throws IOException {
        Run r = run(new EvalCommand(), evalArgs());
        assertThat(r.exit()).as(r.err()).isZero();
        String golden = Files.readString(RES.resolve("golden/system-policy.jsonl")).replace("$ROOT", ROOT);
        assertThat(r.out().lines()).containsExactlyElementsOf(golden.lines().toList());
    }

    @Test
    void eval_withAssumeYesForAsk_matchesTheGoldenOutput() throws IOException {
        Run r = run(new EvalCommand(), evalArgs("--assume-yes-for-ask"));
        assertThat(r.exit()).as(r.err()).isZero();
        String golden = Files.readString(RES.resolve("golden/system-policy-assume-yes.jsonl")).replace("$ROOT", ROOT);
        assertThat(r.out().lines()).containsExactlyElementsOf(golden.lines().toList());
    }

    @Test
    void eval_malformedQueryLine_isAnsweredWithAnError_andExitsOne() throws IOException {
        Path q = Files.writeString(tmp.resolve("q"), "work vault qubes.Gpg\nwork\n");
        Run r = run(new EvalCommand(), "--policy-dir", "src/test/resources/system-policy/etc", "--system",
                "src/test/resources/system-policy/system.json", "--queries", q.toString(),
                "--legacy-dir", ROOT + "/src/test/resources/system-policy/legacy");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out().lines()).hasSize(2);
        assertThat(r.out().lines().toList().get(1)).contains("\"error\": \"" + q + ":2: a query is");
    }

    @Test
    void eval_unreadableSystemInfo_exitsTwo_withAMessage() throws IOException {
        Path s = Files.writeString(tmp.resolve("s.json"), "{\"qubes\": 1}");
        Run r = run(new EvalCommand(), "--policy-dir", tmp.toString(), "--system", s.toString(), "--queries",
                s.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("neither a \"domains\" object nor a \"vms\" list");
    }

    @Test
    void lint_cleanDirectory_exitsZero() {
        Run r = run(new LintCommand(), "--legacy-dir", ROOT + "/src/test/resources/system-policy/legacy",
                "src/test/resources/system-policy/etc");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).isEmpty();
    }

    @Test
    void lint_printsEveryError_asFileLineMessage_andExitsOne() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("policy.d"));
        Files.writeString(dir.resolve("30-a.policy"), "qubes.X * work\nqubes.X * @default vault allow\n");
        Files.writeString(dir.resolve("40-B.policy"), "\n");
        Run r = run(new LintCommand(), dir.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out().lines()).containsExactly(
                dir.resolve("40-B.policy") + ": invalid filename: " + dir.resolve("40-B.policy")
                        + " (policy file names may use only 0-9, a-z, '_', '.' and '-'; rename it, or start its name"
                        + " with '.' to disable it)",
                dir.resolve("30-a.policy") + ":1: wrong number of fields (a rule is SERVICE ARGUMENT SOURCE TARGET"
                        + " ACTION [PARAM=VALUE ...]; write * for any service or argument (found 3 fields))",
                dir.resolve("30-a.policy") + ":2: invalid source token: '@default' (in the source column write a "
                        + "qube name, uuid:UUID, *, @anyvm, @adminvm, @tag:TAG, @type:CLASS, @dispvm:NAME or "
                        + "@dispvm:@tag:TAG)");
    }

    @Test
    void lint_jsonFormat_listsFileLineMessageAndHint() throws IOException {
        Path f = Files.writeString(tmp.resolve("30-a.policy"), "qubes.X * work vault allow notify=maybe\n");
        Run r = run(new LintCommand(), "--format", "json", f.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).isEqualToIgnoringWhitespace("[{\"file\": \"" + f + "\", \"line\": 1, \"message\": "
                + "\"'notify' is 'maybe', but can be only 'yes' or 'no'\", \"hint\": \"write notify=yes or notify=no\"}]");
    }

    @Test
    void help_printsUsage() {
        assertThat(run(new LintCommand(), "--help").out()).contains("Usage: qubes-policy-lint");
        assertThat(run(new EvalCommand(), "--help").out()).contains("Usage: qrexec-policy-eval");
    }
}
