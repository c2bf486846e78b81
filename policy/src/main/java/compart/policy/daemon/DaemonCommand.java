package compart.policy.daemon;

import compart.policy.LivePolicy;
import compart.policy.SystemInfo;
import compart.policy.cli.PolicyCommands;
import compart.policy.cli.PolicyDirectories;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code qrexec-policy-daemon}: serves the Qubes policy daemon protocol until killed. */
@Command(name = "qrexec-policy-daemon", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Answer the qrexec daemon's policy requests on a unix socket, with the policy files "
                + "watched and reloaded when they change.",
                "Every decision is logged on stderr as 'qrexec: SERVICE+ARG: SOURCE -> TARGET: ...'."})
public final class DaemonCommand implements Callable<Integer> {

    @Option(names = "--socket", paramLabel = "PATH", defaultValue = "/run/qubes/policy.sock",
            description = "the socket to serve (default: ${DEFAULT-VALUE}), made mode 0660")
    Path socket;

    @Mixin
    PolicyDirectories directories = new PolicyDirectories();

    @Option(names = "--system", paramLabel = "FILE",
            description = "read the qubes from this JSON file (internal.GetSystemInfo shape) instead of asking "
                    + "the admin daemon")
    Path systemFile;

    @Option(names = "--qubesd-socket", paramLabel = "PATH", defaultValue = "/var/run/qubesd.internal.sock",
            description = "the admin daemon's internal socket for internal.GetSystemInfo (default: ${DEFAULT-VALUE})")
    Path qubesd;

    @Option(names = "--stall-timeout", paramLabel = "MILLIS", defaultValue = "5000",
            description = "drop a client that has not sent its whole request after this long (default: ${DEFAULT-VALUE})")
    long stallMillis;

    @Override
    public Integer call() throws Exception {
        Supplier<SystemInfo> system = systemFile != null ? SystemInfoSource.file(systemFile)
                : SystemInfoSource.qubesd(qubesd);
        try (LivePolicy live = new LivePolicy(directories.dirs(), directories.legacyDir());
             PolicyDaemon daemon = new PolicyDaemon(socket, live::current, system, Duration.ofMillis(stallMillis))) {
            System.err.println("qrexec-policy-daemon: serving " + socket + " with " + live.current().ruleCount()
                    + " rules" + (live.current().valid() ? "" : " (policy has errors: every call is denied)"));
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            stop.await();
        }
        return 0;
    }

    /** Runs the daemon. */
    public static void main(String[] args) {
        System.exit(PolicyCommands.run(new DaemonCommand(), args));
    }
}
