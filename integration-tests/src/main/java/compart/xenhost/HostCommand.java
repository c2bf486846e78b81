package compart.xenhost;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One external program run by the image builder (debootstrap, chroot apt-get, jlink, mkfs.ext4 ...), its
 * output appended to a log file; on failure the exception quotes the end of that log, so the build output
 * says what went wrong without a second look.
 *
 * @param argv    the program and its arguments
 * @param env     extra environment variables
 * @param log     file the output (stdout and stderr) is appended to
 * @param timeout how long the program may run
 */
public record HostCommand(List<String> argv, Map<String, String> env, Path log, Duration timeout) {

    public HostCommand {
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("a command needs a program");
        }
    }

    /** A command with no extra environment and a 20 minute limit. */
    public static HostCommand of(Path log, String... argv) {
        return new HostCommand(List.of(argv), Map.of(), log, Duration.ofMinutes(20));
    }

    public HostCommand withEnv(Map<String, String> extra) {
        return new HostCommand(argv, extra, log, timeout);
    }

    /** Runs the command to completion; throws if it fails or times out. */
    public void run() {
        try {
            Files.createDirectories(log.toAbsolutePath().getParent());
            Files.writeString(log, "\n$ " + String.join(" ", argv) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            var builder = new ProcessBuilder(argv).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            builder.environment().putAll(env);
            Process process = builder.start();
            if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor();
                throw new CompartException(ErrorKind.TIMEOUT, "'" + argv.getFirst() + "' did not finish within "
                        + timeout.toMinutes() + " min" + logTail());
            }
            if (process.exitValue() != 0) {
                throw new CompartException(ErrorKind.INVALID_STATE, "'" + String.join(" ", argv.subList(0,
                        Math.min(argv.size(), 4))) + (argv.size() > 4 ? " ..." : "") + "' failed with exit code "
                        + process.exitValue() + logTail());
            }
        } catch (IOException e) {
            throw new CompartException(ErrorKind.INVALID_STATE, "could not run '" + argv.getFirst() + "': "
                    + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompartException(ErrorKind.INVALID_STATE, "interrupted while running '" + argv.getFirst() + "'");
        }
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return "; last lines of " + log + ":\n  "
                    + String.join("\n  ", lines.subList(Math.max(0, lines.size() - 25), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "; see " + log;
        }
    }
}
