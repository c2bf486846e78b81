package compart.policy.cli;

import compart.errors.CompartException;
import compart.policy.Policy;
import compart.policy.Request;
import compart.policy.Resolution;
import compart.policy.SystemInfo;
import compart.policy.SystemInfoJson;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qrexec-policy-eval}: decides a batch of calls against policy directories and a system description, and
 * prints one JSON object per call, in input order.
 *
 * <p>Exit codes: 0 every query was answered; 1 a query line could not be read (it gets an object with
 * {@code "error"} and the others are still answered); 2 the system info or the options were unusable.
 */
@Command(name = "qrexec-policy-eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Decide qrexec calls the way the Qubes policy daemon would, one JSON object per call.",
                "Each query line is SOURCE TARGET SERVICE[+ARG] [REQUESTED_SOURCE]; blank lines and # are skipped."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every query was answered", "1:some query line was malformed",
                "2:unusable options or system info"})
public final class EvalCommand implements Callable<Integer> {

    @Mixin
    PolicyDirectories directories = new PolicyDirectories();

    @Option(names = "--system", paramLabel = "FILE", required = true,
            description = "the qubes, as JSON like internal.GetSystemInfo answers ('-' for stdin)")
    String system;

    @Option(names = "--queries", paramLabel = "FILE", defaultValue = "-",
            description = "the calls to decide ('-' for stdin, the default)")
    String queries;

    @Option(names = "--assume-yes-for-ask",
            description = "answer ask as if the user chose the target the caller named")
    boolean assumeYesForAsk;

    @Override
    public Integer call() throws IOException {
        if ("-".equals(system) && "-".equals(queries)) {
            throw CompartException.invalidValue("--system and --queries cannot both be read from stdin: "
                    + "give one of them as a file");
        }
        SystemInfo sys;
        try (InputStream in = open(system)) {
            sys = SystemInfoJson.read(in, system);
        }
        Policy policy = Policy.load(directories.dirs(), directories.legacyDir());

        int status = 0;
        Writer out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), false);
        StringBuilder b = new StringBuilder(512);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(open(queries), StandardCharsets.UTF_8))) {
            int lineNo = 0;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lineNo++;
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#")) continue;
                b.setLength(0);
                String[] f = t.split("\\s+");
                if (f.length < 3 || f.length > 4) {
                    new PolicyJson(b).field("query", t).field("error", queries + ":" + lineNo
                            + ": a query is SOURCE TARGET SERVICE[+ARG] [REQUESTED_SOURCE], found " + f.length
                            + " fields").end();
                    status = 1;
                } else {
                    Request req = Request.of(f[2], f[0], f[1]);
                    if (f.length == 4) {
                        req = new Request(req.service(), req.argument(), req.source(), req.target(), f[3]);
                    }
                    write(b, req, policy.evaluate(req, sys, assumeYesForAsk));
                }
                b.append('\n');
                out.write(b.toString());
            }
        }
        out.flush();
        return status;
    }

    static void write(StringBuilder b, Request req, Resolution r) {
        PolicyJson j = new PolicyJson(b).field("service", req.service()).field("argument", req.argument())
                .field("source", req.source()).field("target", req.target());
        switch (r) {
            case Resolution.Allow a -> j.field("action", "allow").field("rule", a.rule())
                    .field("resolved_target", a.target()).field("user", a.user()).field("notify", a.notifyUser())
                    .field("autostart", a.autostart()).field("targets_for_ask", null).field("default_target", null)
                    .field("wire", a.wire()).field("error", null);
            case Resolution.Ask a -> j.field("action", "ask").field("rule", a.rule())
                    .field("resolved_target", null).field("user", a.user()).field("notify", a.notifyUser())
                    .field("autostart", a.autostart()).field("targets_for_ask", a.targets())
                    .field("default_target", a.defaultTarget()).field("wire", null).field("error", null);
            case Resolution.Deny d -> j.field("action", "deny").field("rule", d.rule())
                    .field("resolved_target", null).field("user", null).field("notify", d.notifyUser())
                    .field("autostart", null).field("targets_for_ask", null).field("default_target", null)
                    .field("wire", d.wire()).field("error", d.reason());
        }
        j.field("log", r.log()).end();
    }

    private static InputStream open(String name) throws IOException {
        return "-".equals(name) ? System.in : Files.newInputStream(Path.of(name));
    }

    /** Runs the command; exit codes as in the class comment. */
    public static void main(String[] args) {
        System.exit(PolicyCommands.run(new EvalCommand(), args));
    }
}
