package compart.cli.command;

/** {@code --format} of the listing commands: Qubes' text, or JSON for scripts. */
public enum OutputFormat {
    /** Qubes' text output. */
    text,
    /** One JSON document. */
    json
}
