package compart.packaging;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Runs a command of the work tree (or a tool of the build host) the way a person would, stdout and stderr merged. */
final class Processes {
    /** The root of the work tree (this module runs with packaging/ as its working directory). */
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    /** The java of the JDK running the tests, for the launchers (COMPART_JAVA). */
    static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    private Processes() {}

    /**
     * @param pattern the file name of a package {@code -Pdist} builds, as a regular expression
     * @param what    the package as the failure names it
     * @return the first file of {@code packaging/target} whose name matches; fails the test when there is none
     */
    static Path distPackage(String pattern, String what) throws IOException {
        try (Stream<Path> files = Files.list(ROOT.resolve("packaging/target"))) {
            return files.filter(p -> p.getFileName().toString().matches(pattern)).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + what + " in packaging/target"));
        }
    }

    /** What a finished command said. */
    record Result(int exitCode, String output) {}

    /**
     * @param env     variables added to this process's environment (COMPART_JAVA is always set)
     * @param command the command line
     * @return its exit code and output; fails the test when it runs for more than two minutes
     */
    static Result run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        var pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("COMPART_JAVA", JAVA);
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish in 120 s");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
