package compart.cli.command;

import compart.cli.Main;
import compart.cli.Version;
import compart.cli.client.QubeEntry;
import compart.cli.client.RemoteRun;
import compart.cli.client.Reply;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qvm-run}: run a command (or a qrexec service) in qubes from dom0, through compartd's qrexec daemons
 * ({@code internal.vm.Run}, what {@code qrexec-client -d} is in Qubes). As Qubes' qvm-run: a halted qube is
 * started unless {@code --no-autostart}; without {@code --pass-io} the output is discarded and a line says what
 * runs where; the exit code is the largest of the remote commands' (so with {@code --pass-io} and one qube, the
 * remote command's own), 1 when a qube was not started, 255 when the call failed. Arguments after COMMAND are
 * quoted for the shell and appended ({@code --no-shell} without them quotes COMMAND alone).
 *
 * <p>{@code --dispvm[=TEMPLATE]} runs in a new disposable instead, as Qubes' qvm-run in dom0 does: there is no
 * VMNAME; the disposable is created with {@code admin.vm.CreateDisposable} (on TEMPLATE, or on dom0 for the
 * default {@code default_dispvm}), started for the call and killed when it ends, which removes it
 * ({@code auto_cleanup}); one that never started is removed here.
 */
@Command(name = "qvm-run", description = "Run a command in a qube (or several) from dom0.",
        mixinStandardHelpOptions = true, versionProvider = Version.class,
        footer = "Without --pass-io the command's output is discarded. There is no GUI in Compart: --gui and "
                + "--no-gui are accepted and change nothing. With --dispvm there is no VMNAME: a new disposable is "
                + "created, runs the command and is removed; --dispvm takes the next word as its TEMPLATE unless "
                + "written --dispvm=TEMPLATE or followed by an option.")
public final class QvmRun extends QvmCommand {
    @Option(names = {"--user", "-u"}, paramLabel = "USER", description = "run command in a qube as USER")
    String user = "";

    @Option(names = {"--autostart", "--auto", "-a"}, description = "option ignored, this is default")
    boolean autostartIgnored;

    @Option(names = {"--no-autostart", "--no-auto", "-n"}, description = "do not autostart/unpause qube")
    boolean noAutostart;

    @Option(names = {"--pass-io", "-p"}, description = "pass stdio from remote program")
    boolean passIo;

    @Option(names = "--service", description = "run a qrexec service (named by COMMAND) instead of shell command")
    boolean service;

    @Option(names = "--no-shell", description = "treat COMMAND as a simple executable, not a shell command")
    boolean noShell;

    @Option(names = {"--gui"}, description = "run the command with GUI (no effect: Compart has no GUI)")
    boolean gui;

    @Option(names = {"--no-gui", "--nogui"}, description = "run the command without GUI (always so)")
    boolean noGui;

    @Option(names = "--all", description = "run command on all running qubes")
    boolean all;

    @Option(names = "--dispvm", arity = "0..1", fallbackValue = "", paramLabel = "DISPOSABLE_TEMPLATE",
            description = "start a service in new disposable qube; optionally specify a disposable template, else "
                    + "the system default will be used")
    String dispvm;

    @Option(names = "--exclude", paramLabel = "EXCLUDE", description = "exclude the qube from --all")
    List<String> exclude = new ArrayList<>();

    @Parameters(paramLabel = "VMNAME COMMAND ARG", arity = "1..*",
            description = "the qube (not with --all or --dispvm), the command or service to run, and its "
                    + "arguments (imply --no-shell)")
    List<String> words = new ArrayList<>();

    @Override
    public boolean stopsAtPositional() {
        return true;
    }

    @Override
    public Integer call() {
        List<String> rest = new ArrayList<>(words);
        if (dispvm != null && all) {
            throw usage("argument --all: not allowed with argument --dispvm");
        }
        if (dispvm != null && !exclude.isEmpty()) {
            throw usage("Cannot use --exclude with --dispvm");
        }
        String vmName = all || dispvm != null ? null : rest.removeFirst();
        if (rest.isEmpty()) {
            throw usage("the following arguments are required: COMMAND");
        }
        if (!all && !exclude.isEmpty()) {
            throw usage("--exclude can only be used with --all");
        }
        if (service && (noShell || rest.size() > 1)) {
            throw usage("--no-shell does not apply to --service");
        }
        String command = rest.size() > 1 || noShell ? String.join(" ", rest.stream().map(QvmRun::quote).toList())
                : rest.getFirst();
        if (dispvm != null) {
            return inDisposable(rest.getFirst(), command);
        }
        List<QubeEntry> qubes;
        if (all) {
            qubes = allQubes().values().stream().filter(q -> !q.isAdminVm() && q.state().equals("Running"))
                    .filter(q -> !exclude.contains(q.name()))
                    .filter(q -> client().feature(q.name(), "internal").filter(v -> !v.isEmpty()).isEmpty())
                    .toList();
        } else {
            qubes = resolve(List.of(vmName));
        }
        if (passIo && qubes.size() > 1) {
            throw usage("--passio cannot be used when more than 1 qube is chosen");
        }
        int verbose = verbosity() - (passIo ? 1 : 0);
        int flags = (noAutostart ? 0 : RemoteRun.AUTOSTART) | (service ? RemoteRun.SERVICE : 0);
        var runner = new RemoteRun(client().socket());
        var codes = new ConcurrentHashMap<String, Integer>();
        boolean process = Main.ownsProcessStreams();
        try (var pool = Parallel.threads()) {
            for (QubeEntry q : qubes) {
                if (verbose > 0) {
                    note("Running '" + rest.getFirst() + "' on " + q.name());
                }
                pool.submit(() -> {
                    InputStream in = passIo && process ? System.in : null;
                    OutputStream out = !passIo ? OutputStream.nullOutputStream()
                            : process ? System.out : new WriterStream(out());
                    OutputStream errStream = !passIo ? OutputStream.nullOutputStream()
                            : process ? System.err : new WriterStream(err());
                    var outcome = runner.run(q.name(), flags, user, command, in, out, errStream);
                    codes.put(q.name(), code(q.name(), outcome, verbose));
                    return null;
                });
            }
        }
        int code = 0;
        for (QubeEntry q : qubes) {
            Integer c = codes.get(q.name());
            if (c == null) {
                throw new CompartException(ErrorKind.PROTOCOL, "the call to "
                        + q.name() + " failed; see compartd's log");
            }
            code = Math.max(code, c);
        }
        return code;
    }

    /** Creates a disposable, runs the command in it, and removes it (kill; remove when it never ran). */
    private int inDisposable(String shownCommand, String command) {
        var reply = client().call(dispvm.isEmpty() ? "dom0" : dispvm, "admin.vm.CreateDisposable", null, null);
        if (reply instanceof Reply.Failure f) {
            err().println(commandName() + ": error: " + (dispvm.isEmpty() ? "" : dispvm + ": ") + f.message());
            err().flush();
            return 255;
        }
        String disp = reply.text().strip();
        int verbose = verbosity() - (passIo ? 1 : 0);
        try {
            if (verbose > 0) {
                note("Running '" + shownCommand + "' on " + disp);
            }
            boolean process = Main.ownsProcessStreams();
            InputStream in = passIo && process ? System.in : null;
            OutputStream out = !passIo ? OutputStream.nullOutputStream() : process ? System.out
                    : new WriterStream(out());
            OutputStream errStream = !passIo ? OutputStream.nullOutputStream() : process ? System.err
                    : new WriterStream(err());
            var outcome = new RemoteRun(client().socket()).run(disp, RemoteRun.AUTOSTART | (service
                    ? RemoteRun.SERVICE : 0), user, command, in, out, errStream);
            out.flush();
            errStream.flush();
            return code(disp, outcome, verbose);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            var killed = client().lifecycle(disp, "Kill");
            if (killed instanceof Reply.Failure f && !f.is("QubesVMNotStartedError")
                    && !f.is("QubesVMNotFoundError")) {
                printError("Failed to kill disposable " + disp + ": " + f.message());
            }
            if (killed instanceof Reply.Failure) {
                // it never ran, so no auto_cleanup follows: remove it (gone already is fine)
                var removed = client().remove(disp);
                if (removed instanceof Reply.Failure f && !f.is("QubesVMNotFoundError")) {
                    printError("Failed to remove disposable " + disp + ": " + f.message());
                }
            }
        }
    }

    private int code(String qube, RemoteRun.Outcome outcome, int verbose) {
        var refused = outcome.refused();
        if (refused == null) {
            if (outcome.exitCode() != 0 && verbose > 0) {
                note(qube + ": command failed with code: " + outcome.exitCode());
            }
            return outcome.exitCode();
        }
        if (refused.type().equals("QubesVMNotRunningError")) {
            if (verbose > 0) {
                note(refused.message());
            }
            return 1;
        }
        synchronized (this) {
            err().println(commandName() + ": error: " + qube + ": " + refused.message());
            err().flush();
        }
        return 255;
    }

    private synchronized void note(String line) {
        err().println(line);
        err().flush();
    }

    /** Quotes one word for a POSIX shell as Python's shlex.quote does. */
    static String quote(String word) {
        if (!word.isEmpty() && word.chars().allMatch(c -> Character.isLetterOrDigit(c) && c < 128
                || "@%+=:,./-_".indexOf(c) >= 0)) {
            return word;
        }
        return "'" + word.replace("'", "'\"'\"'") + "'";
    }

    /** Output into a PrintWriter (in-process runs: tests), decoding UTF-8 across writes. */
    private static final class WriterStream extends OutputStream {
        private final PrintWriter writer;
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        private ByteBuffer pending = ByteBuffer.allocate(0);

        WriterStream(PrintWriter writer) {
            this.writer = writer;
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            var in = ByteBuffer.allocate(pending.remaining() + len).put(pending).put(b, off, len).flip();
            var chars = CharBuffer.allocate(in.remaining() + 1);
            decoder.decode(in, chars, false);
            writer.append(chars.flip());
            pending = in.slice();
        }

        @Override
        public synchronized void flush() {
            writer.flush();
        }
    }
}
