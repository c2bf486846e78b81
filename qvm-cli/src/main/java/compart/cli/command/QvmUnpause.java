package compart.cli.command;

import compart.cli.Version;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code qvm-unpause}: unpause paused qubes and resume suspended ones; exit code 1 when any failed. */
@Command(name = "qvm-unpause", description = "unpause a domain", mixinStandardHelpOptions = true,
        versionProvider = Version.class)
public final class QvmUnpause extends QvmCommand {
    @Mixin
    QubeSelection selection;

    @Override
    public Integer call() {
        var replies = Parallel.each(selection.resolve(this, true), q ->
                client().lifecycle(q.name(), q.state().equals("Suspended") ? "Resume" : "Unpause"));
        return printFailures(replies, "Failed to unpause/resume");
    }
}
