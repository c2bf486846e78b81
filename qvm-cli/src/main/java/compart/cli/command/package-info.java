/** One class per qvm-* command, each a picocli {@code @Command} speaking the Admin API through compart.cli.client. */
package compart.cli.command;
