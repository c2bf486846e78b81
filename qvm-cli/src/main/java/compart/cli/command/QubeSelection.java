package compart.cli.command;

import compart.cli.client.QubeEntry;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Qubes' VMNAME group: names (with wildcards), or {@code --all} (every qube but the AdminVM) minus
 * {@code --exclude}.
 */
public final class QubeSelection {
    @Option(names = "--all", description = "perform the action on all qubes")
    boolean all;

    @Option(names = "--exclude", paramLabel = "EXCLUDE", description = "exclude the qube from --all")
    List<String> exclude = new ArrayList<>();

    @Parameters(paramLabel = "VMNAME", arity = "0..*", description = "zero or more qube names")
    List<String> names = new ArrayList<>();

    /**
     * @param command  the command, for resolving and errors
     * @param required whether at least one qube (or --all) must be given
     * @return the selected qubes
     */
    List<QubeEntry> resolve(QvmCommand command, boolean required) {
        if (all && !names.isEmpty()) {
            throw command.usage("argument --all: not allowed with argument VMNAME");
        }
        if (!all && !exclude.isEmpty()) {
            throw command.usage("--exclude can only be used with --all");
        }
        if (all) {
            return command.allQubes().values().stream()
                    .filter(q -> !q.isAdminVm() && !exclude.contains(q.name())).toList();
        }
        if (names.isEmpty()) {
            if (required) {
                throw command.usage("one of the arguments --all VMNAME is required");
            }
            return List.of();
        }
        return command.resolve(names);
    }
}
