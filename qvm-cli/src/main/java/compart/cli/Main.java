package compart.cli;

import compart.cli.command.Commands;
import compart.cli.command.QvmCommand;
import compart.errors.CompartException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import picocli.CommandLine;

/**
 * The entry point of every {@code qvm-*} command and {@code qubes-prefs}. The launcher in {@code bin/} passes its
 * own name as {@code -Dcompart.command}; without it the first argument names the command
 * ({@code java -m compart.cli/compart.cli.Main qvm-ls --all}).
 *
 * <p>Exit codes are decided here and only here: 0 done; 1 failed (one line on stderr, the stack trace only with
 * {@code -v}); 2 usage error (the usage line, then {@code COMMAND: error: WHY}); commands that answer with their
 * exit code (qvm-check, qvm-features NAME) return their own.
 */
public final class Main {
    /** Exit code: the work is done. */
    public static final int OK = 0;
    /** Exit code: the work failed. */
    public static final int FAILED = 1;
    /** Exit code: the command line was wrong. */
    public static final int USAGE = 2;

    private static volatile boolean processStreams;

    private Main() {}

    /**
     * @return whether a command runs as this process's command ({@link #main}), so it may use the process's raw
     *         stdin/stdout/stderr (qvm-run --pass-io); false when run in-process ({@link #run}: tests)
     */
    public static boolean ownsProcessStreams() {
        return processStreams;
    }

    /** @param args the command line (with the command name first when {@code compart.command} is not set) */
    public static void main(String[] args) {
        String name = System.getProperty("compart.command");
        String[] rest = args;
        if ((name == null || !Commands.exists(name)) && args.length > 0 && Commands.exists(args[0])) {
            name = args[0];
            rest = Arrays.copyOfRange(args, 1, args.length);
        }
        processStreams = true;
        var out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        var err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        int code = run(name, rest, out, err, Environment.ofProcess());
        out.flush();
        err.flush();
        System.exit(code);
    }

    /**
     * Runs one command in this process.
     *
     * @param name the command's name ({@code qvm-ls}, ...)
     * @param args its arguments
     * @param out  standard output
     * @param err  standard error
     * @param env  the environment ({@code COMPART_SOCKET})
     * @return the exit code
     */
    public static int run(String name, String[] args, PrintWriter out, PrintWriter err, Environment env) {
        if (name == null || !Commands.exists(name)) {
            err.println("compart: unknown command " + name + "; one of: " + String.join(", ", Commands.names()));
            return USAGE;
        }
        QvmCommand command = Commands.create(name, env);
        var model = command.model();
        var cli = model != null ? new CommandLine(model) : new CommandLine(command);
        cli.setOut(out).setErr(err);
        cli.setStopAtPositional(command.stopsAtPositional());
        usageStyle(cli);
        cli.setParameterExceptionHandler((ex, badArgs) -> usageError(ex.getCommandLine(), ex.getMessage()));
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> failure(ex, commandLine, command));
        int code = cli.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    private static void usageStyle(CommandLine cli) {
        cli.getCommandSpec().usageMessage().synopsisHeading("usage: ");
        cli.getSubcommands().values().forEach(Main::usageStyle);
    }

    private static int usageError(CommandLine cli, String message) {
        PrintWriter err = cli.getErr();
        CommandLine.Help help = cli.getHelp();
        err.print(help.synopsisHeading() + help.synopsis(help.synopsisHeadingLength()));
        err.println(cli.getCommandSpec().qualifiedName() + ": error: " + message);
        err.flush();
        return USAGE;
    }

    private static int failure(Exception ex, CommandLine cli, QvmCommand command) {
        if (ex instanceof CommandLine.ParameterException pe) {
            return usageError(pe.getCommandLine(), pe.getMessage());
        }
        PrintWriter err = cli.getErr();
        QvmCommand failed = cli.getCommand() instanceof QvmCommand c ? c : command;
        if (ex instanceof CompartException ce) {
            err.println(failed.failurePrefix() + ce.getMessage());
        } else {
            err.println(failed.failurePrefix() + "internal error: " + ex
                    + " (run with -v for the stack trace, and report it)");
        }
        if (failed.verbosity() >= 2) {
            ex.printStackTrace(err);
        }
        err.flush();
        return FAILED;
    }
}
