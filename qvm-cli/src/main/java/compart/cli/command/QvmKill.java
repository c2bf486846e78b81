package compart.cli.command;

import compart.cli.Version;
import compart.cli.client.Reply;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code qvm-kill}: destroy qubes at once; halted ones are fine; the exit code counts the failures. */
@Command(name = "qvm-kill", description = "immediately terminate a qube without a graceful shutdown sequence",
        mixinStandardHelpOptions = true, versionProvider = Version.class)
public final class QvmKill extends QvmCommand {
    @Mixin
    QubeSelection selection;

    @Override
    public Integer call() {
        var replies = Parallel.each(selection.resolve(this, true), q -> client().lifecycle(q.name(), "Kill"));
        int failed = 0;
        for (var e : replies.entrySet()) {
            if (e.getValue() instanceof Reply.Failure f && !Parallel.notStarted(f)) {
                printError("Failed to kill: " + e.getKey().name() + ": " + f.message());
                failed++;
            }
        }
        return failed;
    }
}
