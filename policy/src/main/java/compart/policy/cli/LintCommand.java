package compart.policy.cli;

import compart.policy.Diagnostic;
import compart.policy.parse.LoadedPolicy;
import compart.policy.parse.PolicyLoader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qubes-policy-lint}: checks policy directories or single files and prints every problem at once, as
 * {@code FILE:LINE: message (what to do)}.
 *
 * <p>A directory is checked as the policy daemon would load it (includes followed, file names checked); a
 * file is checked alone, its includes resolved against its own directory; {@code -} reads one file from stdin.
 */
@Command(name = "qubes-policy-lint", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Check qrexec policy files; print every error as FILE:LINE: message.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:no problem found", "1:problems found"})
public final class LintCommand implements Callable<Integer> {

    @Parameters(paramLabel = "PATH", arity = "0..*",
            description = "policy directories or files, '-' for stdin (default: /etc/qubes/policy.d)")
    List<String> paths = new ArrayList<>();

    @Option(names = "--legacy-dir", paramLabel = "DIR",
            description = "the R4.0 policy that !compat-4.0 reads (default: /etc/qubes-rpc/policy)")
    Path legacyDir;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text",
            description = "text (default) or json")
    Format format;

    /** Output formats. */
    enum Format { text, json }

    @Override
    public Integer call() throws IOException {
        List<String> targets = paths.isEmpty() ? List.of(PolicyLoader.ETC_POLICY_DIR.toString()) : paths;
        List<Diagnostic> all = new ArrayList<>();
        int rules = 0;
        for (String p : targets) {
            LoadedPolicy loaded;
            if (p.equals("-")) {
                String text = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
                loaded = PolicyLoader.loadText(text, "<stdin>", Path.of("."));
            } else if (Files.isDirectory(Path.of(p))) {
                loaded = PolicyLoader.load(List.of(Path.of(p)), legacyDir);
            } else {
                loaded = PolicyLoader.loadFile(Path.of(p), legacyDir);
            }
            all.addAll(loaded.diagnostics());
            rules += loaded.rules().size();
        }
        PrintStream out = System.out;
        if (format == Format.json) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < all.size(); i++) {
                Diagnostic d = all.get(i);
                b.append(i == 0 ? "\n  " : ",\n  ");
                new PolicyJson(b).field("file", d.file()).field("line", d.line()).field("message", d.message())
                        .field("hint", d.hint()).end();
            }
            out.println(b.append(all.isEmpty() ? "]" : "\n]"));
        } else {
            for (Diagnostic d : all) out.println(d);
            if (all.isEmpty()) System.err.println("qubes-policy-lint: " + rules + " rules, no problem found");
        }
        out.flush();
        return all.isEmpty() ? 0 : 1;
    }

    /** Runs the command; exit 0 clean, 1 problems. */
    public static void main(String[] args) {
        System.exit(PolicyCommands.run(new LintCommand(), args));
    }
}
