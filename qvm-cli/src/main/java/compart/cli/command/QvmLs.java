package compart.cli.command;

import compart.cli.Version;
import compart.cli.client.QubeEntry;
import compart.cli.format.JsonText;
import compart.cli.format.Progress;
import compart.cli.format.Table;
import compart.cli.format.Wrap;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qvm-ls}: Qubes' listing, same columns, formats, filters, sorting and output ({@code column -t} layout,
 * {@code -} for no value), plus {@code --format json}. It makes one {@code admin.vm.List} call, then one
 * {@code GetAll} per listed qube only when a column or filter needs properties (fetched a few at a time).
 */
@Command(name = "qvm-ls", description = "List Qubes domains and their parameters.", mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        footer = {"", "available formats (see --help-formats):", "  disk, full, json, kernel, network, prefs, simple",
            "", "available columns (see --help-columns):",
            "  CLASS, DISK, FLAGS, GATEWAY, MEMORY, PRIV-CURR, PRIV-MAX, PRIV-POOL,",
            "  PRIV-USED, ROOT-CURR, ROOT-MAX, ROOT-POOL, ROOT-USED, STATE,",
            "  and any property of a qube (NAME, LABEL, TEMPLATE, NETVM, ...)"})
public final class QvmLs extends QvmCommand {
    /** Qubes' preset formats. */
    static final Map<String, List<String>> FORMATS = new LinkedHashMap<>();

    static {
        FORMATS.put("disk", List.of("name", "state", "disk", "priv-curr", "priv-max", "priv-used", "root-curr",
                "root-max", "root-used"));
        FORMATS.put("full", List.of("name", "state", "class", "label", "qid", "xid", "uuid"));
        FORMATS.put("kernel", List.of("name", "state", "class", "template", "kernel", "kernelopts"));
        FORMATS.put("network", List.of("name", "state", "netvm", "ip", "ipback", "gateway"));
        FORMATS.put("prefs", List.of("name", "label", "template", "netvm", "vcpus", "initialmem", "maxmem",
                "virt_mode"));
        FORMATS.put("simple", List.of("name", "state", "class", "label", "template", "netvm"));
    }

    @Option(names = "--all", description = "list all qubes (the default)")
    boolean all;

    @Option(names = "--exclude", paramLabel = "EXCLUDE", description = "exclude the qube from --all")
    List<String> exclude = new ArrayList<>();

    @Parameters(paramLabel = "VMNAME", arity = "0..*", description = "zero or more domain names")
    List<String> names = new ArrayList<>();

    @Option(names = {"--format", "-o"}, paramLabel = "FORMAT",
            description = "preset format (simple, network, kernel, full, prefs, disk), or json")
    String format;

    @Option(names = {"--fields", "-O"}, paramLabel = "FIELD,...",
            description = "user specified format (see available columns below)")
    String fields;

    @Option(names = {"--tree", "-t"}, description = "sort domain list as network tree")
    boolean tree;

    @Option(names = "--raw-data", description = "Display specify data of specified VMs. Intended for bash-parsing.")
    boolean rawData;

    @Option(names = "--raw-list", description = "Same as --raw-data --fields=name")
    boolean rawList;

    @Option(names = {"--disk", "-d"}, description = "Same as --format=disk")
    boolean disk;

    @Option(names = {"--network", "-n"}, description = "Same as --format=network")
    boolean network;

    @Option(names = {"--kernel", "-k"}, description = "Same as --format=kernel")
    boolean kernel;

    @Option(names = "--help-formats", description = "list all available formats with their definitions and exit")
    boolean helpFormats;

    @Option(names = "--help-columns", description = "list all available columns with short descriptions and exit")
    boolean helpColumns;

    @Option(names = "--class", arity = "1..*", paramLabel = "CLASS",
            description = "show only qubes of specific class(es)")
    List<String> classes;

    @Option(names = "--label", arity = "1..*", paramLabel = "LABEL",
            description = "show only qubes with specific label(s)")
    List<String> labels;

    @Option(names = "--tags", arity = "1..*", paramLabel = "TAG", description = "show only qubes having specific tag(s)")
    List<String> tags;

    @Option(names = "--exclude-tags", arity = "1..*", paramLabel = "TAG",
            description = "exclude qubes having specific tag(s)")
    List<String> excludeTags;

    @Option(names = "--running", description = "show running VMs")
    boolean running;

    @Option(names = "--paused", description = "show paused VMs")
    boolean paused;

    @Option(names = "--halted", description = "show halted VMs")
    boolean halted;

    @Option(names = "--template-source", arity = "1..*", paramLabel = "TEMPLATE",
            description = "filter results to the qubes based on the TEMPLATE. \"\" means None")
    List<String> templateSource;

    @Option(names = "--netvm-is", arity = "1..*", paramLabel = "NETVM",
            description = "filter results to the qubes connecting via NETVM")
    List<String> netvmIs;

    @Option(names = "--internal", paramLabel = "<y|n>", description = "show only internal qubes or option to hide them")
    String internal;

    @Option(names = "--servicevm", paramLabel = "<y|n>", description = "show only ServiceVMs or option to hide them")
    String servicevm;

    @Option(names = "--pending-update", description = "filter results to qubes pending for update")
    boolean pendingUpdate;

    @Option(names = "--features", arity = "1..*", paramLabel = "FEATURE=VALUE",
            description = "filter results to qubes that matches all specified features. omitted VALUE means None "
                    + "(unset). Empty value means \"\" (blank)")
    List<String> features;

    @Option(names = "--prefs", arity = "1..*", paramLabel = "PREFERENCE=VALUE",
            description = "filter results to qubes that matches all specified preferences. omitted VALUE means None "
                    + "(unset). Empty value means \"\" (blank)")
    List<String> prefs;

    @Option(names = "--sort", paramLabel = "COLUMN", description = "sort based on provided column rather than NAME")
    String sort = "NAME";

    @Option(names = "--reverse", description = "reverse sort")
    boolean reverse;

    @Option(names = "--ignore-case", description = "ignore case distinctions when sorting")
    boolean ignoreCase;

    @Option(names = "--spinner", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "show a spinner on a terminal while fetching (default)")
    boolean spinner;

    /** @return this command's model, built without reading the annotations above ({@link QvmLsModel}) */
    @Override
    public picocli.CommandLine.Model.CommandSpec model() {
        return QvmLsModel.of(this);
    }

    @Override
    public Integer call() {
        if (helpFormats) {
            return printFormats();
        }
        if (helpColumns) {
            return printColumns();
        }
        boolean json = "json".equals(format);
        List<String> fieldNames = fieldNames(json);
        List<LsColumn> columns = fieldNames.stream().map(LsColumn::forField).toList();

        Map<String, QubeEntry> known = allQubes();
        List<QubeEntry> selected = select(known);
        Map<String, QubeData> data = new LinkedHashMap<>();
        for (QubeEntry q : known.values()) {
            data.put(q.name(), new QubeData(q, client()));
        }
        List<QubeData> shown = new ArrayList<>(selected.stream().map(q -> data.get(q.name())).toList());
        shown = filterByState(shown);
        var progress = new Progress(err(), spinner && !rawData && !json && Progress.onTerminal());
        progress.show("please wait...");
        if (needsProperties(columns)) {
            List<QubeData> toFetch = new ArrayList<>(shown);
            if (columns.stream().anyMatch(c -> c.head().equals("GATEWAY")) || tree) {
                toFetch = new ArrayList<>(data.values());
            }
            prefetch(toFetch);
        }
        shown = filter(shown);
        shown.sort(Comparator.comparing(QubeData::name));
        try {
            if (json) {
                writeJson(shown, fieldNames, columns, data);
            } else if (rawData) {
                for (QubeData q : shown) {
                    out().println(columns.stream().map(c -> c.cell(q, data)).collect(Collectors.joining("|")));
                }
            } else {
                List<List<String>> rows = new ArrayList<>();
                rows.add(columns.stream().map(LsColumn::head).toList());
                rows.addAll(tree ? treeRows(shown, columns, data) : sortedRows(shown, columns, data));
                progress.done();
                out().print(Table.render(rows));
            }
        } finally {
            progress.done();
        }
        out().flush();
        return 0;
    }

    private List<String> fieldNames(boolean json) {
        if (rawList) {
            rawData = true;
            return List.of("name");
        }
        int presets = (format != null && !json ? 1 : 0) + (disk ? 1 : 0) + (network ? 1 : 0) + (kernel ? 1 : 0)
                + (fields != null ? 1 : 0);
        if (presets > 1) {
            throw usage("only one of --format/-o, --fields/-O, --disk/-d, --network/-n, --kernel/-k may be given");
        }
        if (fields != null) {
            return List.of(fields.split(",")).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        }
        String preset = disk ? "disk" : network ? "network" : kernel ? "kernel"
                : format == null || json ? "simple" : format;
        List<String> columns = FORMATS.get(preset);
        if (columns == null) {
            throw usage("argument --format/-o: invalid choice: '" + format + "' (choose from "
                    + String.join(", ", FORMATS.keySet().stream().map(f -> "'" + f + "'").toList()) + ", 'json')");
        }
        return columns;
    }

    private List<QubeEntry> select(Map<String, QubeEntry> known) {
        if (all && !names.isEmpty()) {
            throw usage("argument --all: not allowed with argument VMNAME");
        }
        if (!all && !exclude.isEmpty()) {
            throw usage("--exclude can only be used with --all");
        }
        if (!names.isEmpty()) {
            return resolve(names);
        }
        // qvm-ls lists the AdminVM too, with or without --all
        return known.values().stream().filter(q -> !exclude.contains(q.name())).toList();
    }

    private List<QubeData> filterByState(List<QubeData> qubes) {
        List<QubeData> result = new ArrayList<>(qubes);
        if (classes != null) {
            result.removeIf(q -> !classes.contains(q.entry.klass()));
        }
        if (running || paused || halted) {
            Set<String> states = new HashSet<>();
            if (running) {
                states.add("running");
            }
            if (paused) {
                states.add("paused");
            }
            if (halted) {
                states.add("halted");
            }
            result.removeIf(q -> !states.contains(q.entry.state().toLowerCase()));
        }
        return result;
    }

    private boolean needsProperties(List<LsColumn> columns) {
        return tree || labels != null || templateSource != null || netvmIs != null || prefs != null
                || columns.stream().anyMatch(LsColumn::needsProperties);
    }

    /** Threads that fetch properties at the same time (with compartd on the same two-core host, more do not help). */
    private static final int FETCHERS = 4;

    /**
     * Fetches properties, one GetAll per qube as Qubes' qvm-ls does, {@link #FETCHERS} calls at a time on platform
     * threads, so that this process parses one reply while compartd answers the next: about 1.3 times faster than
     * one call after the other for 200 qubes. Not virtual threads: their epoll pollers stay in native code and make
     * the JVM's exit wait 300 ms (VM_Exit waits for threads in native). Each qube is fetched by one thread only; the
     * joins publish what they fetched to this thread.
     */
    private static void prefetch(List<QubeData> qubes) {
        int threads = Math.min(FETCHERS, qubes.size());
        if (threads <= 1) {
            qubes.forEach(QvmLs::prefetch);
            return;
        }
        var next = new AtomicInteger();
        var failure = new AtomicReference<RuntimeException>();
        Runnable fetcher = () -> {
            for (int i; failure.get() == null && (i = next.getAndIncrement()) < qubes.size(); ) {
                try {
                    prefetch(qubes.get(i));
                } catch (RuntimeException e) {
                    failure.compareAndSet(null, e);
                }
            }
        };
        List<Thread> started = new ArrayList<>();
        for (int t = 1; t < threads; t++) {
            started.add(Thread.ofPlatform().daemon().name("qvm-ls-fetch-" + t).start(fetcher));
        }
        fetcher.run();
        for (Thread t : started) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while fetching the qubes' properties", e);
            }
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    private static void prefetch(QubeData q) {
        try {
            q.prefetchProperties();
        } catch (CompartException e) {
            if (e.kind() != ErrorKind.NOT_FOUND) {
                throw e;
            }
            // removed since admin.vm.List: Qubes skips it too
        }
    }

    private List<QubeData> filter(List<QubeData> qubes) {
        List<QubeData> result = new ArrayList<>(qubes);
        if (labels != null) {
            result.removeIf(q -> !labels.contains(String.valueOf(q.shown("label"))));
        }
        if (tags != null) {
            result.removeIf(q -> q.tags().stream().noneMatch(tags::contains));
        }
        if (excludeTags != null) {
            result.removeIf(q -> q.tags().stream().anyMatch(excludeTags::contains));
        }
        if (templateSource != null) {
            result.removeIf(q -> !templateSource.contains(Optional.ofNullable(q.shown("template")).orElse("")));
        }
        if (netvmIs != null) {
            result.removeIf(q -> !netvmIs.contains(Optional.ofNullable(q.shown("netvm")).orElse("")));
        }
        yesNoFeature(result, internal, "internal", "--internal");
        yesNoFeature(result, servicevm, "servicevm", "--servicevm");
        if (pendingUpdate) {
            result.removeIf(q -> q.feature("updates-available").filter(v -> !v.isEmpty()).isEmpty());
        }
        if (features != null) {
            for (String f : features) {
                String[] kv = keyValue(f, "--features");
                result.removeIf(q -> !q.feature(kv[0]).equals(Optional.ofNullable(kv[1])));
            }
        }
        if (prefs != null) {
            for (String p : prefs) {
                String[] kv = keyValue(p, "--prefs");
                result.removeIf(q -> {
                    var property = q.property(kv[0]);
                    String value = property == null || property.isUnset() ? null
                            : property.isNone() ? "None" : property.value();
                    return !Objects.equals(value, kv[1]);
                });
            }
        }
        return result;
    }

    private void yesNoFeature(List<QubeData> qubes, String choice, String feature, String option) {
        if (choice == null) {
            return;
        }
        Set<String> truthy = Set.of("1", "true", "True");
        boolean wanted = switch (choice) {
            case "y", "yes" -> true;
            case "n", "no" -> false;
            default -> throw usage("argument " + option + ": invalid choice: '" + choice
                    + "' (choose from 'y', 'yes', 'n', 'no')");
        };
        qubes.removeIf(q -> q.feature(feature).filter(truthy::contains).isPresent() != wanted);
    }

    private String[] keyValue(String token, String option) {
        int eq = token.indexOf('=');
        if (eq <= 0) {
            throw usage("Invalid argument: " + option + " " + token);
        }
        String value = token.substring(eq + 1);
        if (value.isEmpty()) {
            value = null;
        } else if (value.equals("''") || value.equals("\"\"")) {
            value = "";
        }
        return new String[] {token.substring(0, eq), value};
    }

    private List<List<String>> sortedRows(List<QubeData> qubes, List<LsColumn> columns, Map<String, QubeData> all) {
        List<List<String>> rows = new ArrayList<>();
        for (QubeData q : qubes) {
            rows.add(columns.stream().map(c -> c.cell(q, all)).toList());
        }
        String key = sort.toUpperCase();
        int index = -1;
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).head().equals(key)) {
                index = i;
            }
        }
        if (index >= 0) {
            int col = index;
            Comparator<List<String>> order = NUMERIC.contains(key)
                    ? Comparator.comparingLong(r -> numeric(r.get(col)))
                    : Comparator.comparing(r -> ignoreCase ? r.get(col).toUpperCase() : r.get(col));
            rows.sort(reverse ? order.reversed() : order);
        }
        return rows;
    }

    private static final Set<String> NUMERIC = Set.of("MEMORY", "DISK", "PRIV-CURR", "PRIV-MAX", "ROOT-CURR", "XID",
            "ROOT-MAX", "MAXMEM", "QREXEC-TIMEOUT", "SHUTDOWN-TIMEOUT", "VCPUS", "PRIV-USED", "ROOT-USED");

    private static long numeric(String cell) {
        try {
            return Long.parseLong(cell.endsWith("%") ? cell.substring(0, cell.length() - 1) : cell);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Qubes' network tree: unnetworked qubes first, then each top net qube followed by what connects through it. */
    private List<List<String>> treeRows(List<QubeData> qubes, List<LsColumn> columns, Map<String, QubeData> all) {
        List<QubeData> remaining = new ArrayList<>(qubes);
        List<Map.Entry<Integer, QubeData>> tree = new ArrayList<>();
        for (QubeData q : List.copyOf(remaining)) {
            if (q.property("netvm") == null || (q.shown("netvm") == null && !q.flag("provides_network"))) {
                tree.add(Map.entry(0, q));
                remaining.remove(q);
            }
        }
        for (QubeData q : List.copyOf(remaining)) {
            if (q.shown("netvm") == null && q.flag("provides_network")) {
                tree.add(Map.entry(0, q));
                remaining.remove(q);
                children(q, 1, qubes, all, tree);
            }
        }
        List<List<String>> rows = new ArrayList<>();
        for (var e : tree) {
            List<String> row = new ArrayList<>();
            for (LsColumn c : columns) {
                String cell = c.cell(e.getValue(), all);
                if (c.head().equals("NAME") && e.getKey() > 0) {
                    cell = "  ".repeat(e.getKey() - 1) + "└─" + cell;
                }
                row.add(cell);
            }
            rows.add(row);
        }
        return rows;
    }

    private void children(QubeData parent, int level, List<QubeData> shown, Map<String, QubeData> all,
                          List<Map.Entry<Integer, QubeData>> tree) {
        for (QubeData child : all.values()) {
            if (!parent.name().equals(child.shown("netvm")) || !shown.contains(child)) {
                continue;
            }
            tree.add(Map.entry(level, child));
            if (child.flag("provides_network")) {
                children(child, level + 1, shown, all, tree);
            }
        }
    }

    private void writeJson(List<QubeData> qubes, List<String> fieldNames, List<LsColumn> columns,
                           Map<String, QubeData> all) {
        List<Object> list = new ArrayList<>();
        for (QubeData q : qubes) {
            Map<String, Object> object = new LinkedHashMap<>();
            for (int i = 0; i < columns.size(); i++) {
                String v = columns.get(i).value().apply(q, all);
                object.put(fieldNames.get(i).strip().toLowerCase().replace('-', '_'),
                        v == null || v.isEmpty() ? null : v);
            }
            list.add(object);
        }
        out().println(JsonText.write(list));
    }

    private int printFormats() {
        int width = FORMATS.keySet().stream().mapToInt(String::length).max().orElse(0);
        var text = new StringBuilder("Available formats:\n");
        FORMATS.forEach((name, cols) -> text.append(String.format("  %-" + width + "s  %s%n", name,
                String.join(",", cols).toUpperCase())));
        text.append(String.format("  %-" + width + "s  %s%n", "json", "the selected columns as a JSON array"));
        out().println(text);
        return 0;
    }

    private int printColumns() {
        int width = LsColumn.BUILT_IN.keySet().stream().mapToInt(String::length).max().orElse(0);
        var text = new StringBuilder("Available columns:\n");
        for (LsColumn c : LsColumn.BUILT_IN.values()) {
            text.append(Wrap.fill(String.format("%-" + width + "s  %s", c.head(), c.doc()), 80, "  ",
                    " ".repeat(width + 6))).append('\n');
        }
        text.append("\nAdditionally any VM property may be used as a column, see qvm-prefs --help-properties for "
                + "available values\n");
        out().println(text);
        return 0;
    }
}
