package compart.policy.cli;

import compart.errors.CompartException;
import java.io.IOException;
import picocli.CommandLine;

/** How every policy command starts: picocli, and one line on stderr (exit 2) for an operation that failed. */
public final class PolicyCommands {
    private PolicyCommands() {
    }

    /**
     * Points Logback at the policy commands' configuration (one line per event on stderr) unless the user
     * gave one, so that log lines never mix with a command's output on stdout.
     */
    public static void configureLogging() {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "compart-policy-logback.xml");
        }
    }

    /** @return the exit code of running {@code command} with {@code args} */
    public static int run(Object command, String[] args) {
        configureLogging();
        CommandLine cl = new CommandLine(command);
        String name = cl.getCommandName();
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            if (e instanceof CompartException ce) {
                line.getErr().println(name + ": " + ce.getMessage());
                return 2;
            }
            if (e instanceof IOException io) {
                line.getErr().println(name + ": " + io);
                return 2;
            }
            throw e;
        });
        return cl.execute(args);
    }
}
