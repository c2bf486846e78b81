/** Output of the commands: Qubes' {@code column -t} tables, JSON, wrapped help text and terminal progress. */
package compart.cli.format;
