package compart.cli.command;

import compart.cli.Version;
import compart.cli.client.Reply;
import compart.errors.CompartException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qvm-create}: create a qube ({@code admin.vm.Create.CLASS}), then set the {@code --property} values. A
 * StandaloneVM with a template is a clone of that template's root (as in Qubes). Exit codes as Qubes: 1 when the
 * qube could not be created, 2 when it was created but a property could not be set (or a usage error).
 */
@Command(name = "qvm-create", description = "create a new domain", mixinStandardHelpOptions = true,
        versionProvider = Version.class)
public final class QvmCreate extends QvmCommand {
    @Option(names = {"--class", "-C"}, paramLabel = "CLS",
            description = "specify the class of the new domain (default: AppVM)")
    String klass = "AppVM";

    @Option(names = "--standalone", description = "shortcut for --class StandaloneVM")
    boolean standalone;

    @Option(names = "--disp", description = "alias for --class DispVM --label red")
    boolean disp;

    @Option(names = {"--property", "--prop"}, paramLabel = "NAME=VALUE",
            description = "set domain's property, like \"internal\", \"memory\" or \"vcpus\"")
    List<String> properties = new ArrayList<>();

    @Option(names = {"--pool", "-p"}, paramLabel = "VOLUME_NAME=POOL_NAME",
            description = "specify the pool to use for a volume")
    List<String> pools = new ArrayList<>();

    @Option(names = "-P", paramLabel = "POOL_NAME", description = "change all volume pools to specified pool")
    String onePool;

    @Option(names = {"--template", "-t"}, paramLabel = "VALUE", description = "specify the TemplateVM to use")
    String template;

    @Option(names = {"--label", "-l"}, paramLabel = "VALUE",
            description = "specify the label to use for the new domain (e.g. red, yellow, green, ...)")
    String label;

    @Option(names = "--help-classes", description = "List available classes and exit")
    boolean helpClasses;

    @Parameters(arity = "0..1", paramLabel = "VMNAME", description = "name of the domain to create")
    String name;

    @Override
    public Integer call() {
        if (helpClasses) {
            client().vmClasses().forEach(out()::println);
            return 0;
        }
        Map<String, String> props = new LinkedHashMap<>();
        for (String p : properties) {
            int eq = p.indexOf('=');
            if (eq < 0) {
                throw usage("Invalid property token: '" + p + "'");
            }
            props.put(p.substring(0, eq), p.substring(eq + 1));
        }
        Map<String, String> volumePools = volumePools(pools, this);
        if (disp) {
            klass = "DispVM";
            if (label == null) {
                label = props.containsKey("label") ? null : "red";
            }
        }
        if (standalone) {
            klass = "StandaloneVM";
        }
        if (label == null) {
            label = props.remove("label");
        }
        if (template == null) {
            template = props.remove("template");
        }
        if (label == null) {
            throw usage("--label option is mandatory");
        }
        if (name == null) {
            throw usage("VMNAME is mandatory");
        }
        List<String> labels = client().labels();
        if (!labels.contains(label)) {
            throw usage("no such label: '" + label + "'; available: " + String.join(", ", labels));
        }
        if (!client().vmClasses().contains(klass)) {
            throw usage("no such domain class: '" + klass + "'");
        }
        try {
            if (klass.equals("StandaloneVM") && template != null) {
                Clone.clone(this, resolveOne(template).name(), name, klass, label, onePool, volumePools,
                        List.of("private"), false);
            } else {
                client().create(klass, template, name, label, onePool, volumePools);
            }
        } catch (CompartException e) {
            throw new CompartException(e.kind(), "Error creating VM: " + e.getMessage(), e);
        }
        int code = 0;
        for (var e : props.entrySet()) {
            Reply r = client().setProperty(name, e.getKey(), e.getValue());
            if (r instanceof Reply.Failure f) {
                err().println(commandName() + ": Error setting property " + e.getKey() + " (but VM created): "
                        + f.message());
                code = 2;
            }
        }
        return code;
    }

    /** Parses {@code VOLUME=POOL} options. */
    static Map<String, String> volumePools(List<String> options, QvmCommand command) {
        Map<String, String> result = new LinkedHashMap<>();
        for (String p : options) {
            String[] parts = p.split("=");
            if (parts.length != 2) {
                throw command.usage("Pool argument must be of form: -p volume_name=pool_name");
            }
            result.put(parts[0], parts[1]);
        }
        return result;
    }
}
