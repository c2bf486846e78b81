package compart.cli.command;

import static compart.cli.command.FieldBinding.bind;

import compart.cli.Environment;
import compart.cli.client.AdminClient;
import compart.cli.client.AdminSocket;
import compart.cli.client.QubeEntry;
import compart.cli.client.Reply;
import compart.cli.format.JsonText;
import compart.cli.format.Table;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What every qvm-* command shares: Qubes' {@code -v/-q} verbosity (1 by default, as in Qubes), the daemon's
 * socket ({@code --socket}, else {@code COMPART_SOCKET}), output streams, and resolving qube names the way Qubes'
 * tools do ({@code no such domain: 'NAME'} is a usage error, exit code 2; shell wildcards match names).
 *
 * <p>A command returns its exit code; it throws {@link compart.errors.CompartException} for a failure and
 * {@link ParameterException} for a usage error, which {@link compart.cli.Main} maps to 1 and 2.
 */
public abstract class QvmCommand implements Callable<Integer> {
    /** picocli's model of this command. */
    @Spec
    protected CommandSpec spec;

    @Option(names = {"-v", "--verbose"}, description = "increase verbosity")
    private boolean[] verbose = new boolean[0];

    @Option(names = {"-q", "--quiet"}, description = "decrease verbosity")
    private boolean[] quiet = new boolean[0];

    @Option(names = "--socket", paramLabel = "PATH",
            description = "compartd's Admin API socket (default: $COMPART_SOCKET, else /var/run/qubesd.sock)")
    private Path socket;

    private Environment env = Environment.ofProcess();
    private AdminClient client;

    /**
     * @return this command's picocli model built with picocli's programmatic API, bound to this instance, or null to
     *         have picocli read the annotations (the default). A command started often builds its own: reading
     *         annotations costs a generated proxy class per annotation type at every start (see {@link QvmLsModel}).
     */
    public CommandSpec model() {
        return null;
    }

    /**
     * Adds the options every command shares ({@code -v}, {@code -q}, {@code --socket}) to a model built without
     * annotations, bound to this instance's fields, and makes it this command's {@link #spec}.
     */
    void addSharedOptions(CommandSpec model) {
        spec = model;
        model.addOption(bind(OptionSpec.builder("-v", "--verbose").description("increase verbosity")
                .type(boolean[].class).auxiliaryTypes(boolean.class).arity("0"), () -> verbose, v -> verbose = v)
                .build());
        model.addOption(bind(OptionSpec.builder("-q", "--quiet").description("decrease verbosity")
                .type(boolean[].class).auxiliaryTypes(boolean.class).arity("0"), () -> quiet, v -> quiet = v)
                .build());
        model.addOption(bind(OptionSpec.builder("--socket").paramLabel("PATH")
                .description("compartd's Admin API socket (default: $COMPART_SOCKET, else /var/run/qubesd.sock)")
                .type(Path.class), () -> socket, v -> socket = v).build());
    }

    /** @return whether options end at the first positional parameter (the rest are a remote command's words) */
    public boolean stopsAtPositional() {
        return false;
    }

    void environment(Environment environment) {
        this.env = environment;
    }

    /** @return 1 by default, plus one per {@code -v}, minus one per {@code -q} (the parent command's count too) */
    public int verbosity() {
        QvmCommand parent = parent();
        return (parent == null ? 1 : parent.verbosity()) + verbose.length - quiet.length;
    }

    /** @return the command this one is a subcommand of ({@code qvm-volume} for {@code qvm-volume list}), or null */
    private QvmCommand parent() {
        if (spec == null || spec.parent() == null) {
            return null;
        }
        return spec.parent().userObject() instanceof QvmCommand p ? p : null;
    }

    /** @return how a failure's line starts: {@code COMMAND: error: } (Qubes' {@code error_runtime}) */
    public String failurePrefix() {
        return commandName() + ": error: ";
    }

    /** @return the command's name, for messages */
    public String commandName() {
        return spec == null ? "compart" : spec.root().name();
    }

    /** @return the Admin API client (connecting lazily: --help never touches the socket) */
    protected AdminClient client() {
        if (client == null) {
            QvmCommand parent = parent();
            if (socket == null && parent != null) {
                client = parent.client();
            } else {
                client = new AdminClient(new AdminSocket((parent != null ? parent.env : env).socket(socket)));
            }
        }
        return client;
    }

    /** @return standard output */
    protected PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** @return standard error */
    protected PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** @return a usage error (exit code 2) with this message */
    protected ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Prints Qubes' per-item error line ({@code Error: ...}) to stderr. */
    protected void printError(String message) {
        err().println("Error: " + message);
        err().flush();
    }

    /**
     * Prints an error line ({@code Error: PREFIX: QUBE: message}) for every failed reply of a batch.
     *
     * @return the batch's exit code: 1 when any reply failed, else 0
     */
    protected int printFailures(Map<QubeEntry, Reply> replies, String prefix) {
        int code = 0;
        for (var e : replies.entrySet()) {
            if (e.getValue() instanceof Reply.Failure f) {
                printError(prefix + ": " + e.getKey().name() + ": " + f.message());
                code = 1;
            }
        }
        return code;
    }

    /**
     * Prints NAME VALUE pairs as {@code qvm-features} and {@code qvm-service} list them: a two-column table, or one JSON
     * object with {@code --format json}.
     */
    protected void printPairs(Map<String, String> pairs, OutputFormat format) {
        if (format == OutputFormat.json) {
            out().println(JsonText.write(pairs));
        } else {
            List<List<String>> rows = new ArrayList<>();
            pairs.forEach((k, v) -> rows.add(List.of(k, v)));
            out().print(Table.render(rows));
        }
    }

    /** Removes a feature of {@code qube}; one that is not set is no error, as in Qubes' tools. */
    protected void removeFeatureIfSet(String qube, String feature) {
        Reply r = client().removeFeature(qube, feature);
        if (!(r instanceof Reply.Failure f && f.is("QubesFeatureNotFoundError"))) {
            r.orThrow();
        }
    }

    /** Prints a log-style line ({@code COMMAND: message}) to stderr when the verbosity is at least 1. */
    protected void info(String message) {
        if (verbosity() >= 1) {
            err().println(commandName() + ": " + message);
            err().flush();
        }
    }

    /** @return every qube, by name, in the daemon's order */
    protected Map<String, QubeEntry> allQubes() {
        Map<String, QubeEntry> byName = new LinkedHashMap<>();
        for (QubeEntry q : client().qubes()) {
            byName.put(q.name(), q);
        }
        return byName;
    }

    /**
     * Resolves names (with shell wildcards {@code * ? [...]}) against the daemon's qubes.
     *
     * @throws ParameterException {@code no such domain: 'NAME'}
     */
    protected List<QubeEntry> resolve(List<String> names) {
        Map<String, QubeEntry> all = allQubes();
        List<String> wanted = new ArrayList<>();
        for (String name : names) {
            if (name.chars().anyMatch(c -> "*?[".indexOf(c) >= 0)) {
                Pattern glob = glob(name);
                all.keySet().stream().filter(n -> glob.matcher(n).matches() && !wanted.contains(n))
                        .forEach(wanted::add);
            } else if (!wanted.contains(name)) {
                wanted.add(name);
            }
        }
        List<QubeEntry> qubes = new ArrayList<>();
        for (String name : wanted) {
            QubeEntry q = all.get(name);
            if (q == null) {
                throw usage("no such domain: '" + name + "'");
            }
            qubes.add(q);
        }
        return qubes;
    }

    /** @return the one named qube */
    protected QubeEntry resolveOne(String name) {
        return resolve(List.of(name)).getFirst();
    }

    /** fnmatch: {@code *}, {@code ?}, {@code [seq]}, {@code [!seq]}. */
    static Pattern glob(String glob) {
        var regex = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            switch (c) {
                case '*' -> regex.append(".*");
                case '?' -> regex.append('.');
                case '[' -> {
                    int end = glob.indexOf(']', i + 2);
                    if (end < 0) {
                        regex.append("\\[");
                    } else {
                        String set = glob.substring(i + 1, end);
                        regex.append('[').append(set.startsWith("!") ? "^" + Pattern.quote(set.substring(1))
                                : Pattern.quote(set)).append(']');
                        i = end;
                    }
                }
                default -> regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(regex.toString());
    }
}
