package compart.cli.command;

import compart.cli.Version;
import compart.cli.client.Property;
import compart.cli.client.QubeEntry;
import compart.cli.client.Reply;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qvm-check}: the exit code answers. 0: the qubes exist (and pass every filter); 1: none passes, or a qube
 * does not exist; 3: some pass and some do not. With the default verbosity it says which, on stderr.
 */
@Command(name = "qvm-check", description = "Exits sucessfull if the provided domain(s) exist, else returns failure",
        mixinStandardHelpOptions = true, versionProvider = Version.class)
public final class QvmCheck extends QvmCommand {
    @Mixin
    QubeSelection selection;

    @Option(names = "--running", description = "Determine if (any of given) VM is running")
    boolean running;

    @Option(names = "--paused", description = "Determine if (any of given) VM is paused")
    boolean paused;

    @Option(names = "--template", description = "Determine if (any of given) VM is a template")
    boolean template;

    @Option(names = "--networked", description = "Determine if (any of given) VM can reach network")
    boolean networked;

    @Override
    public Integer call() {
        if (selection.all && !selection.names.isEmpty()) {
            throw usage("argument --all: not allowed with argument VMNAME");
        }
        if (!selection.all && selection.names.isEmpty()) {
            throw usage("one of the arguments --all VMNAME is required");
        }
        if (!selection.all && !selection.exclude.isEmpty()) {
            throw usage("--exclude can only be used with --all");
        }
        Map<String, QubeEntry> known = allQubes();
        List<QubeEntry> qubes = new ArrayList<>();
        Set<String> invalid = new LinkedHashSet<>();
        if (selection.all) {
            known.values().stream().filter(q -> !q.isAdminVm() && !selection.exclude.contains(q.name()))
                    .forEach(qubes::add);
        } else {
            for (String name : selection.names) {
                if (known.containsKey(name)) {
                    qubes.add(known.get(name));
                } else {
                    invalid.add(name);
                }
            }
        }
        List<String> status = new ArrayList<>();
        List<Predicate<QubeEntry>> filters = new ArrayList<>();
        if (running) {
            status.add("running");
            filters.add(QubeEntry::isRunning);
        }
        if (paused) {
            status.add("paused");
            filters.add(q -> q.state().equals("Paused"));
        }
        if (template) {
            status.add("template");
            filters.add(q -> q.klass().equals("TemplateVM"));
        }
        if (networked) {
            status.add("networked");
            filters.add(this::isNetworked);
        }
        int code = 0;
        if (!filters.isEmpty()) {
            List<QubeEntry> passing = qubes.stream().filter(q -> filters.stream().allMatch(f -> f.test(q))).toList();
            if (passing.size() != qubes.size()) {
                code = passing.isEmpty() ? 1 : 3;
            }
            report(passing, status);
        } else if (qubes.isEmpty()) {
            code = 1;
        } else {
            report(qubes, List.of("exists"));
        }
        if (!invalid.isEmpty()) {
            invalid.forEach(name -> info(name + ": non-existent!"));
            code = 1;
        }
        return code;
    }

    private void report(List<QubeEntry> qubes, List<String> status) {
        if (qubes.isEmpty()) {
            info("None of qubes: " + String.join(", ", status));
        }
        qubes.stream().map(QubeEntry::name).sorted().forEach(n -> info(n + ": " + String.join(", ", status)));
    }

    private boolean isNetworked(QubeEntry q) {
        if (q.isAdminVm()) {
            return true;
        }
        Reply r = client().property(q.name(), "netvm");
        return r instanceof Reply.Ok && !Property.parse(r.text()).value().isEmpty();
    }
}
