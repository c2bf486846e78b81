package compart.packaging;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * Writes the documentation that packages install, from the picocli model of every command in {@code bin/}: a man
 * page source per command and subcommand (AsciiDoc for Asciidoctor's manpage backend, picocli-codegen's
 * {@link ManPageGenerator}), and a bash completion script per command ({@link AutoComplete}).
 *
 * <p>Each command is built the way its launcher builds it: the qvm-* commands through
 * {@code compart.cli.command.Commands} (one main class, the command named by the launcher), the others from their
 * main class. Runs at build time only, in the build's JVM; nothing of it is installed.
 *
 * <p>Usage: {@code CommandDocs BIN_DIR MAN_SOURCE_DIR COMPLETION_DIR}
 */
public final class CommandDocs {
    private static final String QVM_MAIN = "compart.cli.Main";

    private CommandDocs() {}

    /** @param args BIN_DIR MAN_SOURCE_DIR COMPLETION_DIR */
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: CommandDocs BIN_DIR MAN_SOURCE_DIR COMPLETION_DIR");
        }
        List<Launcher> launchers = Launcher.all(Path.of(args[0]));
        Path man = Files.createDirectories(Path.of(args[1]));
        Path completion = Files.createDirectories(Path.of(args[2]));
        var specs = new ArrayList<CommandSpec>();
        for (Launcher launcher : launchers) {
            CommandLine cli = commandLine(launcher);
            specs.add(cli.getCommandSpec());
            String script = AutoComplete.bash(launcher.name(), cli);
            Files.writeString(completion.resolve(launcher.name()), script, StandardCharsets.UTF_8);
        }
        int rc = ManPageGenerator.generateManPage(man.toFile(), null, new boolean[0], true,
                specs.toArray(CommandSpec[]::new));
        if (rc != 0) {
            throw new IllegalStateException("picocli's man page generator failed with exit code " + rc);
        }
        System.out.println("command-docs: man page sources and bash completions of " + launchers.size()
                + " commands in " + man + " and " + completion);
    }

    /**
     * @param launcher a launcher of bin/
     * @return the picocli model its command runs with
     */
    static CommandLine commandLine(Launcher launcher) throws ReflectiveOperationException {
        if (launcher.mainClass().equals(QVM_MAIN)) {
            Class<?> commands = Class.forName("compart.cli.command.Commands");
            Class<?> environment = Class.forName("compart.cli.Environment");
            Object env = environment.getMethod("ofProcess").invoke(null);
            Object command = commands.getMethod("create", String.class, environment).invoke(null, launcher.name(), env);
            return new CommandLine(command);
        }
        Constructor<?> constructor = Class.forName(launcher.mainClass()).getDeclaredConstructor();
        constructor.setAccessible(true);
        CommandLine cli = new CommandLine(constructor.newInstance());
        if (!cli.getCommandName().equals(launcher.name())) {
            throw new IllegalStateException(launcher.mainClass() + " calls itself " + cli.getCommandName()
                    + " but its launcher is " + launcher.name());
        }
        return cli;
    }
}
