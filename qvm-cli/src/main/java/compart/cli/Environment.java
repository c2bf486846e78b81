package compart.cli;

import compart.cli.client.AdminSocket;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * What a command reads from its process besides its arguments: the environment variables. Passed in rather than
 * read from {@link System#getenv()} so tests run commands in-process with their own socket.
 *
 * @param variables the environment variables
 */
public record Environment(Map<String, String> variables) {
    /** The environment variable that names the daemon's socket. */
    public static final String SOCKET_VARIABLE = "COMPART_SOCKET";

    /** Copies the map. */
    public Environment {
        variables = Map.copyOf(Objects.requireNonNull(variables, "variables"));
    }

    /** @return this process's environment */
    public static Environment ofProcess() {
        return new Environment(System.getenv());
    }

    /**
     * @param option the {@code --socket} option, or null when not given
     * @return the socket to use: the option, else {@code COMPART_SOCKET}, else {@code /var/run/qubesd.sock}
     */
    public Path socket(Path option) {
        if (option != null) {
            return option;
        }
        String fromEnvironment = variables.get(SOCKET_VARIABLE);
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return Path.of(fromEnvironment);
        }
        return AdminSocket.DEFAULT_PATH;
    }
}
