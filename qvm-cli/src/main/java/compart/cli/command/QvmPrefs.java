package compart.cli.command;

import compart.cli.Version;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code qvm-prefs VMNAME [PROPERTY [VALUE]]}: a qube's properties. */
@Command(name = "qvm-prefs", description = "Manipulate VM properties.", mixinStandardHelpOptions = true,
        versionProvider = Version.class)
public final class QvmPrefs extends QvmCommand {
    @Parameters(index = "0", paramLabel = "VMNAME", description = "a domain name")
    String vmname;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PROPERTY",
            description = "name of the property to show or change")
    String property;

    @Parameters(index = "2", arity = "0..1", paramLabel = "VALUE", description = "new value of the property")
    String value;

    @Mixin
    PrefsOptions options = new PrefsOptions();

    @Override
    public Integer call() {
        String qube = resolveOne(vmname).name();
        return options.run(this, qube, property, value);
    }
}
