package compart.cli.command;

import compart.cli.Version;
import compart.cli.client.Property;
import compart.cli.client.QubeEntry;
import compart.cli.client.Reply;
import compart.cli.format.Progress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qvm-shutdown}: ask qubes to shut down, all at once. With {@code --wait} it waits until they are halted
 * (polling {@code admin.vm.List}), retries the qubes that were in use by others once those are down, and kills
 * the qubes still running after the timeout ({@code --timeout}, else the largest {@code shutdown_timeout} of the
 * qubes), as Qubes does. The exit code counts the qubes that could not be shut down.
 */
@Command(name = "qvm-shutdown", description = "Shutdown a qube", mixinStandardHelpOptions = true,
        versionProvider = Version.class)
public final class QvmShutdown extends QvmCommand {
    private static final long POLL_MILLIS = 100;

    @Mixin
    QubeSelection selection;

    @Option(names = "--wait", description = "wait for the VMs to shut down")
    boolean wait;

    @Option(names = "--timeout", paramLabel = "TIMEOUT",
            description = "timeout in seconds for --wait (default: the qubes' shutdown_timeout); implies --wait")
    Integer timeout;

    @Option(names = "--force", description = "shut down even if other qubes depend on this one (e.g. as NetVM); "
            + "does not affect how the qube itself is shut down; use with caution")
    boolean force;

    @Option(names = "--dry-run", description = "don't really shutdown or kill the domains; useful with --wait")
    boolean dryRun;

    @Override
    public Integer call() throws InterruptedException {
        List<QubeEntry> qubes = selection.resolve(this, true);
        if (dryRun) {
            return 0;
        }
        if (timeout != null) {
            if (timeout < 0) {
                throw usage("argument --timeout: must not be negative: " + timeout);
            }
            wait = true;
        }
        boolean forced = force || (selection.all && selection.exclude.isEmpty());
        var progress = new Progress(err(), verbosity() >= 1 && Progress.onTerminal());
        Map<String, String> failures = new LinkedHashMap<>();
        List<QubeEntry> pending = qubes;
        long deadline = wait ? System.nanoTime() + timeoutSeconds(qubes) * 1_000_000_000L : 0;
        List<String> sent = new ArrayList<>();
        for (int round = 0; !pending.isEmpty(); round++) {
            var replies = Parallel.each(pending, q -> client().shutdown(q.name(), forced, false));
            List<QubeEntry> inUse = new ArrayList<>();
            for (var e : replies.entrySet()) {
                Reply r = e.getValue();
                if (r instanceof Reply.Failure f && !Parallel.notStarted(f)) {
                    if (f.is("QubesVMInUseError") && wait) {
                        inUse.add(e.getKey());
                    }
                    failures.put(e.getKey().name(), f.message());
                } else {
                    failures.remove(e.getKey().name());
                    if (r instanceof Reply.Ok) {
                        sent.add(e.getKey().name());
                    }
                }
            }
            if (!wait || inUse.isEmpty() || inUse.size() == pending.size() && round > 0) {
                break;
            }
            printError("Retrying shutdown of qubes that were in use: "
                    + inUse.stream().map(QubeEntry::name).collect(Collectors.joining(", ")));
            awaitHalted(sent, deadline, progress);
            sent.clear();
            pending = inUse;
        }
        if (wait) {
            List<String> timedOut = awaitHalted(sent, deadline, progress);
            if (!timedOut.isEmpty()) {
                printError("Killing timed out qubes: " + String.join(", ", timedOut));
                for (String name : timedOut) {
                    Reply killed = client().lifecycle(name, "Kill");
                    if (killed instanceof Reply.Failure f && !Parallel.notStarted(f)) {
                        failures.put(name, "shutdown timed out and kill failed: " + f.message());
                    }
                }
            }
        }
        failures.forEach((name, message) -> printError("Failed to shut down: " + name + ": " + message));
        return failures.size();
    }

    private long timeoutSeconds(List<QubeEntry> qubes) {
        if (timeout != null) {
            return timeout;
        }
        long longest = 0;
        for (QubeEntry q : qubes) {
            Reply r = client().property(q.name(), "shutdown_timeout");
            if (r instanceof Reply.Ok) {
                try {
                    longest = Math.max(longest, Long.parseLong(Property.parse(r.text()).value()));
                } catch (NumberFormatException e) {
                    // not set: Qubes' default applies
                }
            }
        }
        return longest > 0 ? longest : 60;
    }

    /** @return the names still not halted at the deadline */
    private List<String> awaitHalted(List<String> names, long deadline, Progress progress)
            throws InterruptedException {
        List<String> running = new ArrayList<>(names);
        while (true) {
            Map<String, QubeEntry> all = allQubes();
            running.removeIf(n -> !all.containsKey(n) || all.get(n).state().equals("Halted"));
            if (running.isEmpty() || System.nanoTime() >= deadline) {
                progress.done();
                return running;
            }
            progress.show("waiting for " + running.size() + " qube" + (running.size() == 1 ? "" : "s")
                    + " to shut down (" + String.join(", ", running.stream().limit(3).toList())
                    + (running.size() > 3 ? ", ..." : "") + ")");
            Thread.sleep(POLL_MILLIS);
        }
    }
}
