package compart.cli.command;

import compart.core.daemon.Compartd;
import java.nio.file.Path;
import picocli.CommandLine;

/**
 * A real compartd in this JVM, on the simulated {@code test} hypervisor, with its state and socket in a temporary
 * directory: what the golden-output tests run the commands against.
 */
final class CliTestDaemon implements AutoCloseable {
    final Path socket;
    private final Compartd.Running running;

    CliTestDaemon(Path dir) {
        socket = dir.resolve("qubesd.sock");
        var compartd = new Compartd();
        new CommandLine(compartd).parseArgs("--hypervisor", "test", "--socket", socket.toString(),
                "--state-dir", dir.resolve("state").toString());
        running = compartd.start();
    }

    /** Runs a command against this daemon. */
    CliRun run(String command, String... args) {
        return CliRun.run(socket, command, args);
    }

    @Override
    public void close() {
        running.close();
    }
}
