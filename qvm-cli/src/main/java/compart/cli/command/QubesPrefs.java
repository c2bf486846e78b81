package compart.cli.command;

import compart.cli.Version;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code qubes-prefs [PROPERTY [VALUE]]}: the global properties. */
@Command(name = "qubes-prefs", description = "Manipulate global properties.", mixinStandardHelpOptions = true,
        versionProvider = Version.class)
public final class QubesPrefs extends QvmCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "PROPERTY",
            description = "name of the property to show or change")
    String property;

    @Parameters(index = "1", arity = "0..1", paramLabel = "VALUE", description = "new value of the property")
    String value;

    @Mixin
    PrefsOptions options = new PrefsOptions();

    @Override
    public Integer call() {
        return options.run(this, null, property, value);
    }
}
