package compart.xl.foreign;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Test support: compiles the C files of {@code src/test/c} with the real gcc and runs programs. */
public final class Gcc {
    /** The module's base directory (surefire runs tests there). */
    public static final Path MODULE = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
    /** Where compiled test programs go. */
    public static final Path TARGET = MODULE.resolve("target/native-test");

    private Gcc() {
    }

    /** @return whether gcc and the Xen 4.17 headers are installed (apt-get install gcc libxen-dev) */
    public static boolean xenHeadersAvailable() {
        return Files.exists(Path.of("/usr/include/libxl.h")) && onPath("gcc");
    }

    /** @return whether {@code tool} is an executable on PATH */
    public static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Compiles {@code src/test/c/<source>} into {@code target/native-test/<output>} with extra flags. */
    public static Path compile(String source, String output, String... flags) throws IOException, InterruptedException {
        Files.createDirectories(TARGET);
        Path out = TARGET.resolve(output);
        List<String> command = new ArrayList<>(List.of("gcc", "-std=gnu11", "-Wall", "-Werror"));
        command.addAll(List.of(flags));
        command.addAll(List.of("-o", out.toString(), MODULE.resolve("src/test/c").resolve(source).toString()));
        run(command);
        return out;
    }

    /** Runs a command and returns its stdout; fails with its output when it exits non-zero. */
    public static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " timed out");
        }
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + process.exitValue() + ":\n" + output);
        }
        return output;
    }
}
