package compart.cli.command;

import static compart.cli.command.FieldBinding.bind;

import compart.cli.Version;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * picocli's model of {@code qvm-ls}, built with picocli's programmatic API and bound to a {@link QvmLs}'s fields,
 * so that a run reads no annotation: the JVM makes a proxy class for each annotation type that is read (seven for
 * qvm-ls), which the AOT cache cannot hold, and building the model from annotations took ~45 of qvm-ls's ~190 ms.
 *
 * <p>{@link QvmLs}'s annotations stay the reference: packaging builds the man page and the completion from them, and
 * {@code CommandModelsTest} checks that this model is the same, attribute by attribute and in {@code --help} byte for
 * byte, and parses command lines to the same values. A change to an option is made in both places.
 */
final class QvmLsModel {
    private QvmLsModel() {}

    /** @return the model of this qvm-ls, whose {@link QvmCommand#spec} it becomes */
    static CommandSpec of(QvmLs ls) {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(ls).name("qvm-ls").versionProvider(new Version());
        spec.usageMessage().description("List Qubes domains and their parameters.").footer(
                "", "available formats (see --help-formats):", "  disk, full, json, kernel, network, prefs, simple",
                "", "available columns (see --help-columns):",
                "  CLASS, DISK, FLAGS, GATEWAY, MEMORY, PRIV-CURR, PRIV-MAX, PRIV-POOL,",
                "  PRIV-USED, ROOT-CURR, ROOT-MAX, ROOT-POOL, ROOT-USED, STATE,",
                "  and any property of a qube (NAME, LABEL, TEMPLATE, NETVM, ...)");
        ls.addSharedOptions(spec);
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).type(boolean.class).initialValue(false)
                .hasInitialValue(true)
                .description("Show this help message and exit.").build());
        spec.addOption(OptionSpec.builder("-V", "--version").versionHelp(true).type(boolean.class).initialValue(false)
                .hasInitialValue(true)
                .description("Print version information and exit.").build());

        flag(spec, "list all qubes (the default)", () -> ls.all, v -> ls.all = v, "--all");
        spec.addOption(bind(OptionSpec.builder("--exclude").paramLabel("EXCLUDE")
                .description("exclude the qube from --all").type(List.class).auxiliaryTypes(String.class),
                () -> ls.exclude, v -> ls.exclude = v).build());
        spec.addPositional(bind(PositionalParamSpec.builder().paramLabel("VMNAME").arity("0..*")
                .description("zero or more domain names").type(List.class).auxiliaryTypes(String.class),
                () -> ls.names, v -> ls.names = v).build());
        text(spec, "FORMAT", "preset format (simple, network, kernel, full, prefs, disk), or json",
                () -> ls.format, v -> ls.format = v, "--format", "-o");
        text(spec, "FIELD,...", "user specified format (see available columns below)",
                () -> ls.fields, v -> ls.fields = v, "--fields", "-O");
        flag(spec, "sort domain list as network tree", () -> ls.tree, v -> ls.tree = v, "--tree", "-t");
        flag(spec, "Display specify data of specified VMs. Intended for bash-parsing.",
                () -> ls.rawData, v -> ls.rawData = v, "--raw-data");
        flag(spec, "Same as --raw-data --fields=name", () -> ls.rawList, v -> ls.rawList = v, "--raw-list");
        flag(spec, "Same as --format=disk", () -> ls.disk, v -> ls.disk = v, "--disk", "-d");
        flag(spec, "Same as --format=network", () -> ls.network, v -> ls.network = v, "--network", "-n");
        flag(spec, "Same as --format=kernel", () -> ls.kernel, v -> ls.kernel = v, "--kernel", "-k");
        flag(spec, "list all available formats with their definitions and exit",
                () -> ls.helpFormats, v -> ls.helpFormats = v, "--help-formats");
        flag(spec, "list all available columns with short descriptions and exit",
                () -> ls.helpColumns, v -> ls.helpColumns = v, "--help-columns");
        list(spec, "CLASS", "show only qubes of specific class(es)", () -> ls.classes, v -> ls.classes = v,
                "--class");
        list(spec, "LABEL", "show only qubes with specific label(s)", () -> ls.labels, v -> ls.labels = v,
                "--label");
        list(spec, "TAG", "show only qubes having specific tag(s)", () -> ls.tags, v -> ls.tags = v, "--tags");
        list(spec, "TAG", "exclude qubes having specific tag(s)", () -> ls.excludeTags, v -> ls.excludeTags = v,
                "--exclude-tags");
        flag(spec, "show running VMs", () -> ls.running, v -> ls.running = v, "--running");
        flag(spec, "show paused VMs", () -> ls.paused, v -> ls.paused = v, "--paused");
        flag(spec, "show halted VMs", () -> ls.halted, v -> ls.halted = v, "--halted");
        list(spec, "TEMPLATE", "filter results to the qubes based on the TEMPLATE. \"\" means None",
                () -> ls.templateSource, v -> ls.templateSource = v, "--template-source");
        list(spec, "NETVM", "filter results to the qubes connecting via NETVM", () -> ls.netvmIs,
                v -> ls.netvmIs = v, "--netvm-is");
        text(spec, "<y|n>", "show only internal qubes or option to hide them", () -> ls.internal,
                v -> ls.internal = v, "--internal");
        text(spec, "<y|n>", "show only ServiceVMs or option to hide them", () -> ls.servicevm,
                v -> ls.servicevm = v, "--servicevm");
        flag(spec, "filter results to qubes pending for update", () -> ls.pendingUpdate,
                v -> ls.pendingUpdate = v, "--pending-update");
        list(spec, "FEATURE=VALUE", "filter results to qubes that matches all specified features. omitted VALUE "
                + "means None (unset). Empty value means \"\" (blank)", () -> ls.features, v -> ls.features = v,
                "--features");
        list(spec, "PREFERENCE=VALUE", "filter results to qubes that matches all specified preferences. omitted "
                + "VALUE means None (unset). Empty value means \"\" (blank)", () -> ls.prefs, v -> ls.prefs = v,
                "--prefs");
        text(spec, "COLUMN", "sort based on provided column rather than NAME", () -> ls.sort, v -> ls.sort = v,
                "--sort");
        flag(spec, "reverse sort", () -> ls.reverse, v -> ls.reverse = v, "--reverse");
        flag(spec, "ignore case distinctions when sorting", () -> ls.ignoreCase, v -> ls.ignoreCase = v,
                "--ignore-case");
        spec.addOption(bind(OptionSpec.builder("--spinner").negatable(true).defaultValue("true")
                .fallbackValue("true").description("show a spinner on a terminal while fetching (default)")
                .type(boolean.class), () -> ls.spinner, v -> ls.spinner = v).build());
        return spec;
    }

    private static void flag(CommandSpec spec, String description, Supplier<Boolean> getter, Consumer<Boolean> setter,
                             String... names) {
        spec.addOption(bind(OptionSpec.builder(names).description(description).type(boolean.class), getter, setter)
                .build());
    }

    private static void text(CommandSpec spec, String label, String description, Supplier<String> getter,
                             Consumer<String> setter, String... names) {
        spec.addOption(bind(OptionSpec.builder(names).paramLabel(label).description(description).type(String.class),
                getter, setter).build());
    }

    /** A repeatable option taking one or more values each time ({@code arity = "1..*"}). */
    private static void list(CommandSpec spec, String label, String description, Supplier<List<String>> getter,
                             Consumer<List<String>> setter, String... names) {
        spec.addOption(bind(OptionSpec.builder(names).paramLabel(label).description(description).arity("1..*")
                .type(List.class).auxiliaryTypes(String.class), getter, setter).build());
    }
}
