package compart.cli.command;

import compart.cli.Version;
import compart.cli.client.Property;
import compart.cli.client.QubeEntry;
import compart.cli.client.Reply;
import compart.errors.CompartException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qvm-remove}: remove qubes after a confirmation (or {@code --force}). When a qube is in use it lists where
 * (properties of other qubes, global properties), then fails with the daemon's message.
 */
@Command(name = "qvm-remove", description = "Remove domains from the system", mixinStandardHelpOptions = true,
        versionProvider = Version.class)
public final class QvmRemove extends QvmCommand {
    private static final List<String> GLOBAL_REFERENCES = List.of("default_dispvm", "default_netvm",
            "default_guivm", "default_audiovm", "default_template", "clockvm", "updatevm", "management_dispvm");
    private static final List<String> VM_REFERENCES = List.of("template", "netvm", "guivm", "audiovm",
            "default_dispvm", "management_dispvm");

    @Mixin
    QubeSelection selection;

    @Option(names = {"--force", "-f"}, description = "Do not prompt for confirmation")
    boolean force;

    @Override
    public Integer call() throws IOException {
        List<QubeEntry> qubes = selection.resolve(this, true);
        if (qubes.stream().anyMatch(q -> q.name().equals("dom0"))) {
            err().println("Domain 'dom0' cannot be removed.");
            return 1;
        }
        var stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (selection.all && !(force || !selection.exclude.isEmpty())) {
            err().println("WARNING!!! Removing all domains may leave your system in an unrecoverable state!");
            err().print("Are you certain? [N/IKNOWWHATIAMDOING]");
            err().flush();
            if (!"IKNOWWHATIAMDOING".equals(stdin.readLine())) {
                err().println("Remove cancelled.");
                return 1;
            }
        }
        if (!force) {
            err().println("This will completely remove the selected VM(s)...");
            qubes.forEach(q -> out().println("  " + q.name()));
            out().print("Are you sure? [y/N] ");
            out().flush();
            String answer = stdin.readLine();
            if (answer == null || !answer.strip().equalsIgnoreCase("y")) {
                err().println("Remove cancelled.");
                return 1;
            }
        }
        for (QubeEntry q : qubes) {
            Reply r = client().remove(q.name());
            if (r instanceof Reply.Failure f) {
                if (f.is("QubesVMInUseError")) {
                    explainUse(q.name());
                }
                throw new CompartException(f.kind(), f.message());
            }
        }
        return 0;
    }

    private void explainUse(String name) {
        StringBuilder uses = new StringBuilder();
        Map<String, Property> global = client().properties(null);
        for (String prop : GLOBAL_REFERENCES) {
            Property p = global.get(prop);
            if (p != null && p.value().equals(name)) {
                uses.append(" - global property ").append(prop).append('\n');
            }
        }
        for (QubeEntry other : client().qubes()) {
            if (other.name().equals(name)) {
                continue;
            }
            Map<String, Property> props = client().properties(other.name());
            for (String prop : VM_REFERENCES) {
                Property p = props.get(prop);
                if (p != null && !p.isDefault() && p.value().equals(name)) {
                    uses.append(" - ").append(prop).append(" for ").append(other.name()).append('\n');
                }
            }
        }
        if (!uses.isEmpty()) {
            err().print("VM " + name + " cannot be removed. It is in use as:\n" + uses);
            err().flush();
        }
    }
}
