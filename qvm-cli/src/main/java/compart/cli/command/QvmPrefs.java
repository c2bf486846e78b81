package compart.cli.command;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code qvm-prefs VMNAME [PROPERTY [VALUE]]}: a qube's properties. */
@Command(name = "qvm-prefs", description = "Manipulate VM properties.", mixinStandardHelpOptions = true,
        versionProvider = compart.cli.Version.class)
public final class QvmPrefs extends QvmCommand {
    @Parameters(index = "0", paramLabel = "VMNAME", description = "a domain name")
    String vmname;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PROPERTY",
            description = "name of the property to show or change")
    String property;

    @Parameters(index = "2", arity = "0..1", paramLabel = "VALUE", description = "new value of the property")
    String value;

    @Option(names = "--help-properties",
            description = "list all available properties with short descriptions and exit")
    boolean helpProperties;

    @Option(names = "--hide-default", description = "Do not show properties that are set to the default value.")
    boolean hideDefault;

    @Option(names = {"--get", "-g"}, description = "Ignored; for compatibility with older scripts.")
    boolean get;

    @Option(names = {"--set", "-s"}, description = "Ignored; for compatibility with older scripts.")
    boolean set;

    @Option(names = {"--default", "-D"}, description = "reset property to its default value")
    boolean reset;

    @Option(names = "--format", paramLabel = "FORMAT", description = "text (default) or json")
    OutputFormat format = OutputFormat.text;

    @Override
    public Integer call() {
        String qube = resolveOne(vmname).name();
        return Prefs.run(this, qube, property, value, reset, helpProperties, hideDefault,
                format == OutputFormat.json);
    }
}
