package compart.core.qubesdb;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Test support: the unmodified upstream sources in {@code ../shared/qubes-guest-src} (found by walking up from
 * the module; {@code -Dqubes.guest.src=DIR} overrides), unpacked under {@code target/} for the tests that compile
 * them. Nothing of them enters the repository.
 */
public final class UpstreamQubesDb {
    static final String QUBESDB = "qubes-core-qubesdb-4.3.3";
    static final String VCHAN = "qubes-core-vchan-xen-4.2.8";
    private static final Path MODULE = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
    static final Path TARGET = MODULE.resolve("target/upstream-qubesdb");

    private UpstreamQubesDb() {
    }

    /** @return the directory holding the upstream tarballs, if found */
    public static Optional<Path> sources() {
        var override = System.getProperty("qubes.guest.src");
        if (override != null) {
            return Optional.of(Path.of(override)).filter(Files::isDirectory);
        }
        for (Path p = MODULE.toAbsolutePath(); p != null; p = p.getParent()) {
            var candidate = p.resolve("shared/qubes-guest-src");
            if (Files.exists(candidate.resolve(QUBESDB + ".tar.gz"))) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** @return whether gcc and the sources are here (tests skip with a clear message otherwise) */
    public static boolean available() {
        return sources().isPresent() && onPath("gcc") && onPath("tar");
    }

    static String missing() {
        return "needs gcc, tar and ../shared/qubes-guest-src/" + QUBESDB + ".tar.gz (or -Dqubes.guest.src=DIR)";
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** @return the unpacked source tree of {@code name} (one of the constants) */
    static Path unpacked(String name) throws IOException, InterruptedException {
        Path dir = TARGET.resolve(name);
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(TARGET);
            run(List.of("tar", "xzf", sources().orElseThrow().resolve(name + ".tar.gz").toString(), "-C",
                    TARGET.toString()));
        }
        return dir;
    }

    /** Runs a command and returns its output; fails with it when the command exits non-zero. */
    public static String run(List<String> command) throws IOException, InterruptedException {
        var process = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed:\n" + out);
        }
        return out;
    }
}
