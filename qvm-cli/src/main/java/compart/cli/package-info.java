/**
 * The qvm-* commands: {@link compart.cli.Main} runs one of them (picocli front ends in {@code compart.cli.command})
 * against compartd's Admin API socket ({@code compart.cli.client}) and maps failures to exit codes.
 */
package compart.cli;
