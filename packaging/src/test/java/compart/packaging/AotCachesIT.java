package compart.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The ahead-of-time caches that {@code package} trains ({@code src/build/aot-train.sh}) exist for every launcher in
 * {@code bin/}, are taken by the JVM that {@code bin/.launch} starts (the command's main class comes from the cache,
 * not from its jar), and change nothing but speed.
 */
class AotCachesIT {

    private static final Path AOT = Processes.ROOT.resolve("packaging/target/aot");

    @TestFactory
    Stream<DynamicTest> everyLauncher_hasACache_thatTheJvmUses() throws IOException {
        return LaunchersTest.javaLaunchers().stream().map(launcher -> DynamicTest.dynamicTest(
                launcher.getFileName().toString(), () -> {
                    String name = launcher.getFileName().toString();
                    Path cache = AOT.resolve(name + ".aot");
                    assertThat(cache).as("cache of %s (a file, or a link to the cache of its module)", name)
                            .isRegularFile();
                    assertThat(Files.size(cache)).isGreaterThan(1 << 20);

                    Launcher l = Launcher.read(launcher);
                    var run = Processes.run(Map.of("COMPART_JAVA_OPTS", "-Xlog:class+load=info"),
                            launcher.toString(), "--help");
                    assertThat(run.exitCode()).as(run.output()).isZero();
                    // the classes of its module that the training run loaded (its own main class when it was the
                    // module's representative) come from the cache
                    String fromCache = Files.isSymbolicLink(cache) ? Pattern.quote(l.module()) + "\\.\\S+"
                            : Pattern.quote(l.mainClass());
                    assertThat(run.output()).as("class loading of %s --help", name)
                            .containsPattern(fromCache + " source: shared objects file");
                }));
    }

    @Test
    void cache_changesNothingButSpeed() throws Exception {
        Path qvmLs = Processes.ROOT.resolve("bin/qvm-ls");
        var with = Processes.run(Map.of(), qvmLs.toString(), "--help");
        var without = Processes.run(Map.of("COMPART_AOT", "off"), qvmLs.toString(), "--help");

        assertThat(with.exitCode()).isZero();
        assertThat(with.output()).isEqualTo(without.output());
    }

    @Test
    void staleCache_isIgnoredSilently() throws Exception {
        // A work tree whose jars changed after its cache was trained (a module rebuilt without packaging): the JVM
        // refuses the cache, and nothing of that may show in what the command prints.
        Path tree = Files.createTempDirectory("compart-stale-aot");
        Path bin = Files.createDirectories(tree.resolve("bin"));
        Files.copy(Processes.ROOT.resolve("bin/.launch"), bin.resolve(".launch"));
        Files.copy(Processes.ROOT.resolve("bin/qvm-ls"), bin.resolve("qvm-ls"));
        Path modules = Files.createDirectories(tree.resolve("packaging/target/modules"));
        try (Stream<Path> jars = Files.list(Processes.ROOT.resolve("packaging/target/modules"))) {
            for (Path jar : jars.toList()) {
                Files.copy(jar, modules.resolve(jar.getFileName()));
            }
        }
        Path aot = Files.createDirectories(tree.resolve("packaging/target/aot"));
        var train = Processes.run(Map.of("COMPART_AOT_OUTPUT", aot.resolve("qvm-ls.aot").toString()),
                bin.resolve("qvm-ls").toString(), "--help");
        assertThat(aot.resolve("qvm-ls.aot")).as(train.output()).isRegularFile();
        Path extra = Files.writeString(tree.resolve("extra.txt"), "a jar that changed size");
        var update = Processes.run(Map.of(), Path.of(System.getProperty("java.home"), "bin", "jar").toString(),
                "--update", "--file", modules.resolve("compart-errors.jar").toString(), "-C", tree.toString(),
                extra.getFileName().toString());
        assertThat(update.exitCode()).as(update.output()).isZero();

        var stale = Processes.run(Map.of(), bin.resolve("qvm-ls").toString(), "--help");
        var plain = Processes.run(Map.of("COMPART_AOT", "off"), Processes.ROOT.resolve("bin/qvm-ls").toString(),
                "--help");

        assertThat(stale.exitCode()).as(stale.output()).isZero();
        assertThat(stale.output()).isEqualTo(plain.output()).doesNotContain("[aot]", "[cds]");
    }

    @Test
    void commandsOfOneModule_shareOneCache() throws IOException {
        List<Path> links;
        try (Stream<Path> files = Files.list(AOT)) {
            links = files.filter(Files::isSymbolicLink).toList();
        }
        assertThat(links).extracting(p -> p.getFileName().toString())
                .contains("qvm-prefs.aot", "qubes-prefs.aot", "qvm-start.aot");
        assertThat(Files.readSymbolicLink(AOT.resolve("qvm-prefs.aot"))).hasToString("qvm-ls.aot");
    }
}
