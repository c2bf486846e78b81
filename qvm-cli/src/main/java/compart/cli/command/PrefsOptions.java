package compart.cli.command;

import picocli.CommandLine.Option;

/** The options {@code qvm-prefs} and {@code qubes-prefs} share (a picocli mixin). */
final class PrefsOptions {
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

    /** Shows or changes {@code property} of {@code qube} ({@code null}: the global properties). */
    int run(QvmCommand command, String qube, String property, String value) {
        return Prefs.run(command, qube, property, value, reset, helpProperties, hideDefault,
                format == OutputFormat.json);
    }
}
