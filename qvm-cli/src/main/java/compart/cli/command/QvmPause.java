package compart.cli.command;

import compart.cli.Version;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code qvm-pause}: pause (or S3-suspend) qubes; exit code 1 when any failed. */
@Command(name = "qvm-pause", description = "pause a qube", footer = "Paused qubes will be killed on system shutdown.",
        mixinStandardHelpOptions = true, versionProvider = Version.class)
public final class QvmPause extends QvmCommand {
    @Mixin
    QubeSelection selection;

    @Option(names = {"--suspend", "-S"}, description = "Put the qube to (S3) suspend mode instead of emergency pause")
    boolean suspend;

    @Override
    public Integer call() {
        String action = suspend ? "Suspend" : "Pause";
        var replies = Parallel.each(selection.resolve(this, true), q -> client().lifecycle(q.name(), action));
        return printFailures(replies, "Failed to " + action.toLowerCase());
    }
}
