package compart.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every command in {@code bin/} starts from the module path that this module gathers
 * ({@code packaging/target/modules}) and answers {@code --help} with exit code 0, the way a newcomer tries it
 * right after {@code ./mvnw -q -DskipTests package}.
 */
class LaunchersTest {

    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final Path BIN = ROOT.resolve("bin");
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    /** The launchers in bin/ that start a Java command through bin/.launch. */
    static List<Path> javaLaunchers() throws IOException {
        try (Stream<Path> files = Files.list(BIN)) {
            return files.filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(LaunchersTest::usesSharedLauncher)
                    .sorted()
                    .toList();
        }
    }

    private static boolean usesSharedLauncher(Path p) {
        try {
            return Files.readString(p).contains("/.launch");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @TestFactory
    Stream<DynamicTest> everyLauncher_answersHelp_withExitZero() throws IOException {
        return javaLaunchers().stream().map(launcher -> DynamicTest.dynamicTest(
                launcher.getFileName() + " --help", () -> {
                    assertThat(Files.isExecutable(launcher)).as("%s is executable", launcher).isTrue();
                    Result r = run(launcher.toString(), "--help");
                    assertThat(r.exitCode()).as("exit code of %s --help; output:%n%s", launcher, r.output()).isZero();
                    assertThat(r.output()).as("%s --help prints a usage text", launcher).containsIgnoringCase("usage");
                }));
    }

    @TestFactory
    Stream<DynamicTest> everyLauncher_hasTheSharedShape() throws IOException {
        // packaging reads these lines to name caches, man pages and the packages' commands
        return javaLaunchers().stream().map(launcher -> DynamicTest.dynamicTest(
                launcher.getFileName().toString(), () -> {
                    Launcher l = Launcher.read(launcher);
                    assertThat(l.name()).matches("[a-z][a-z0-9-]*");
                    assertThat(l.mainClass()).startsWith(l.module() + ".");
                }));
    }

    @Test
    void sharedLauncher_withoutBuild_saysHowToBuild() throws Exception {
        Path fakeRoot = Files.createTempDirectory("compart-nobuild");
        Path fakeBin = Files.createDirectories(fakeRoot.resolve("bin"));
        Files.copy(BIN.resolve(".launch"), fakeBin.resolve(".launch"));
        fakeBin.resolve(".launch").toFile().setExecutable(true);
        Path cmd = fakeBin.resolve("qvm-example");
        Files.writeString(cmd, "#!/bin/sh\nexec \"$(dirname \"$(readlink -f \"$0\")\")/.launch\" \"$0\" x/y.Z \"$@\"\n");
        cmd.toFile().setExecutable(true);

        Result r = run(cmd.toString(), "--help");

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.output().strip())
                .startsWith("qvm-example: Compart is not built: run ./mvnw -q -DskipTests package first")
                .doesNotContain("\n");
    }

    @Test
    void moduleDirectory_holdsEveryProjectModule() throws IOException {
        Path modules = ROOT.resolve("packaging/target/modules");
        try (Stream<Path> jars = Files.list(modules)) {
            assertThat(jars.map(p -> p.getFileName().toString()))
                    .contains("compart-errors.jar", "compart-xl-bindings.jar", "compart-volumes.jar",
                            "compart-policy.jar", "compart-toolstack-core.jar", "compart-qvm-cli.jar");
        }
    }

    private record Result(int exitCode, String output) {}

    private static Result run(String... command) throws IOException, InterruptedException {
        var pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("COMPART_JAVA", JAVA);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish in 60 s");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
