package compart.cli.command;

import compart.cli.Environment;
import compart.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;

/** Runs one command in-process as a user would, capturing its output and exit code. */
record CliRun(int code, String out, String err) {
    static CliRun run(Path socket, String command, String... args) {
        var out = new StringWriter();
        var err = new StringWriter();
        Map<String, String> env = socket == null ? Map.of() : Map.of(Environment.SOCKET_VARIABLE, socket.toString());
        int code = Main.run(command, args, new PrintWriter(out), new PrintWriter(err), new Environment(env));
        return new CliRun(code, out.toString(), err.toString());
    }
}
