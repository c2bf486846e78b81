package compart.cli.command;

import compart.cli.Version;
import compart.cli.client.QubeEntry;
import compart.cli.client.Reply;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code qvm-start}: start qubes (all at once); exit code 1 when any failed. */
@Command(name = "qvm-start", description = "start a domain", mixinStandardHelpOptions = true,
        versionProvider = Version.class)
public final class QvmStart extends QvmCommand {
    @Mixin
    QubeSelection selection;

    @Option(names = "--skip-if-running", description = "Do not fail if the qube is already running")
    boolean skipIfRunning;

    @Override
    public Integer call() {
        var qubes = selection.resolve(this, true);
        Map<QubeEntry, Reply> replies = Parallel.each(qubes, q -> {
            if (q.isRunning()) {
                return skipIfRunning ? new Reply.Ok(new byte[0])
                        : new Reply.Failure("QubesVMAlreadyStartedError", "Domain is already running", "");
            }
            return client().lifecycle(q.name(), "Start");
        });
        return printFailures(replies, "Starting qube failed");
    }
}
