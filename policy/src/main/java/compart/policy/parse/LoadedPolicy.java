package compart.policy.parse;

import compart.policy.Diagnostic;
import compart.policy.model.Rule;
import java.nio.file.Path;
import java.util.List;

/**
 * What loading the policy files produced: the rules in evaluation order, every problem found, and every file
 * and directory read (so a watcher knows what to watch).
 *
 * @param rules       the rules, first match first
 * @param diagnostics the problems; any one makes the whole policy deny every call
 * @param inputs      the files and directories that were read
 */
public record LoadedPolicy(List<Rule> rules, List<Diagnostic> diagnostics, List<Path> inputs) {
    public LoadedPolicy {
        rules = List.copyOf(rules);
        diagnostics = List.copyOf(diagnostics);
        inputs = List.copyOf(inputs);
    }
}
