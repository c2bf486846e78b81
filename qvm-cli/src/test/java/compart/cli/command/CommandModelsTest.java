package compart.cli.command;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * A command's model built without annotations ({@link QvmCommand#model()}, what a run uses; {@link QvmLsModel}) is
 * the model picocli reads from the command's annotations (what the man page and the completion are made from): same
 * options with the same attributes, same {@code --help} byte for byte, and (qvm-ls) any command line parses to the
 * same fields or the same error.
 */
class CommandModelsTest {

    @Test
    void qvmLs_buildsItsOwnModel() {
        assertThat(Commands.create("qvm-ls", compart.cli.Environment.ofProcess()).model()).isNotNull();
    }

    @TestFactory
    Stream<DynamicTest> everyCommandWithItsOwnModel_hasTheAnnotatedHelpAndAttributes() {
        return Commands.names().stream()
                .filter(name -> Commands.create(name, compart.cli.Environment.ofProcess()).model() != null)
                .map(name -> DynamicTest.dynamicTest(name, () -> {
                    var annotated = new CommandLine(Commands.create(name, compart.cli.Environment.ofProcess()));
                    var built = new CommandLine(Commands.create(name, compart.cli.Environment.ofProcess()).model());
                    assertThat(built.getUsageMessage(CommandLine.Help.Ansi.OFF))
                            .isEqualTo(annotated.getUsageMessage(CommandLine.Help.Ansi.OFF));
                    assertThat(attributes(built.getCommandSpec())).isEqualTo(attributes(annotated.getCommandSpec()));
                    assertThat(built.getCommandSpec().version()).containsExactly(annotated.getCommandSpec().version());
                    assertThat(built.getSubcommands().keySet()).isEqualTo(annotated.getSubcommands().keySet());
                }));
    }

    private static CommandLine annotated(QvmLs ls) {
        return new CommandLine(ls);
    }

    private static CommandLine built(QvmLs ls) {
        return new CommandLine(ls.model());
    }

    @Test
    void help_isTheAnnotatedModelsHelp_byteForByte() {
        String expected = annotated(new QvmLs()).getUsageMessage(CommandLine.Help.Ansi.OFF);
        assertThat(built(new QvmLs()).getUsageMessage(CommandLine.Help.Ansi.OFF)).isEqualTo(expected);
        assertThat(expected).contains("--[no-]spinner", "-O, --fields=FIELD,...", "available columns");
    }

    @Test
    void version_isTheAnnotatedModelsVersion() {
        assertThat(built(new QvmLs()).getCommandSpec().version())
                .containsExactly(annotated(new QvmLs()).getCommandSpec().version());
        assertThat(built(new QvmLs()).getCommandSpec().version()[0]).startsWith("qvm-ls (Compart");
    }

    @Test
    void model_bindsTheCommandsFields() {
        var ls = new QvmLs();
        built(ls).parseArgs("--running", "-O", "name,state", "--tags", "a", "b", "--no-spinner", "-vv", "work");
        assertThat(ls.running).isTrue();
        assertThat(ls.fields).isEqualTo("name,state");
        assertThat(ls.tags).containsExactly("a", "b");
        assertThat(ls.spinner).isFalse();
        assertThat(ls.names).containsExactly("work");
        assertThat(ls.verbosity()).isEqualTo(3);
    }

    @Property(tries = 300)
    void anyCommandLine_parsesToTheSameFieldsOrTheSameError(@ForAll("commandLines") List<String> args) {
        assertThat(parse(built(new QvmLs()), args)).isEqualTo(parse(annotated(new QvmLs()), args));
    }

    @Provide
    Arbitrary<List<String>> commandLines() {
        return Arbitraries.of("--all", "--exclude", "work", "sys-*", "-o", "json", "--format=disk", "-O",
                "name,state", "-t", "--tree", "--raw-data", "--raw-list", "-d", "-n", "-k", "-dtn", "--help-formats",
                "--help-columns", "--class", "AppVM", "--label", "red", "--tags", "a", "--exclude-tags",
                "--running", "--paused", "--halted", "--template-source", "--netvm-is", "--internal", "y",
                "--servicevm", "--pending-update", "--features", "x=1", "--prefs", "netvm=", "--sort", "LABEL",
                "--reverse", "--ignore-case", "--spinner", "--no-spinner", "--spinner=false", "-v", "-vv", "-q",
                "--socket", "/tmp/s", "--bogus", "-x", "--", "-", "-h", "--help", "-V", "--version", "-hV")
                .list().ofMaxSize(7);
    }

    /** @return the fields of the command after parsing, or the error, as text */
    private static String parse(CommandLine cli, List<String> args) {
        QvmLs ls = cli.getCommand();
        try {
            var result = cli.parseArgs(args.toArray(String[]::new));
            return "help=" + result.isUsageHelpRequested() + " version=" + result.isVersionHelpRequested() + " "
                    + fields(ls);
        } catch (CommandLine.ParameterException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    private static Map<String, String> fields(QvmLs ls) {
        Map<String, String> values = new TreeMap<>();
        for (Class<?> c = QvmLs.class; c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (java.lang.reflect.Modifier.isStatic(f.getModifiers()) || f.getName().equals("spec")
                        || f.getName().equals("env") || f.getName().equals("client")) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                    Object v = f.get(ls);
                    values.put(c.getSimpleName() + "." + f.getName(),
                            v instanceof boolean[] b ? Arrays.toString(b) : String.valueOf(v));
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return values;
    }

    /** Every attribute of every option and positional parameter that shapes parsing or help. */
    private static Map<String, String> attributes(CommandSpec spec) {
        Map<String, String> all = new LinkedHashMap<>();
        List<ArgSpec> args = new ArrayList<>(spec.options());
        args.addAll(spec.positionalParameters());
        args.sort(java.util.Comparator.comparing(CommandModelsTest::key));
        for (ArgSpec a : args) {
            var text = new StringBuilder();
            if (a instanceof OptionSpec o) {
                text.append("names=").append(Arrays.toString(o.names())).append(" negatable=").append(o.negatable())
                        .append(" fallback=").append(o.fallbackValue()).append(" usageHelp=").append(o.usageHelp())
                        .append(" versionHelp=").append(o.versionHelp()).append(" order=").append(o.order());
            }
            // a flag's label (picocli names it after the annotated field) is shown nowhere: help, man page and
            // completion show a label only for an option that takes a value
            text.append(" arity=").append(a.arity())
                    .append(" label=").append(a.arity().max() == 0 ? "(flag)" : a.paramLabel())
                    .append(" description=").append(Arrays.toString(a.description()))
                    .append(" type=").append(a.type().getName())
                    .append(" aux=").append(Arrays.toString(a.auxiliaryTypes()))
                    .append(" default=").append(a.defaultValue())
                    .append(" initial=").append(a.hasInitialValue() ? initial(a.initialValue()) : "(none)")
                    .append(" required=").append(a.required()).append(" hidden=").append(a.hidden())
                    .append(" split=").append(a.splitRegex()).append(" interactive=").append(a.interactive())
                    .append(" hideParamSyntax=").append(a.hideParamSyntax())
                    .append(" showDefault=").append(a.showDefaultValue());
            all.put(key(a), text.toString());
        }
        return all;
    }

    private static String key(ArgSpec a) {
        return a instanceof OptionSpec o ? o.longestName() : "positional " + a.paramLabel();
    }

    private static String initial(Object value) {
        return value instanceof boolean[] b ? Arrays.toString(b) : String.valueOf(value);
    }
}
