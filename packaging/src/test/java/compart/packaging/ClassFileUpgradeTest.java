package compart.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.classfile.Attributes;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeElement;
import java.lang.classfile.Instruction;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.BranchInstruction;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ClassFileUpgrade} on the real picocli jar of the build: every Java 5 class comes out at version 52 with
 * stack-map frames and the same code, passes the JDK's class-file verifier and the JVM's own, and the module path
 * that the launchers use holds the rewritten jar.
 */
class ClassFileUpgradeTest {

    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    @TempDir
    static Path dir;

    private static Path original;
    private static Path upgraded;
    private static ClassFileUpgrade.Summary summary;

    @BeforeAll
    static void upgradePicocli() throws IOException, URISyntaxException {
        original = Path.of(picocli.CommandLine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertThat(original.getFileName().toString()).as("picocli comes from its jar").endsWith(".jar");
        upgraded = dir.resolve("picocli.jar");
        summary = ClassFileUpgrade.upgrade(original, upgraded);
    }

    @Test
    void upgrade_picocli_rewritesEveryClassToVersion52_keepsEveryOtherEntry() throws IOException {
        Map<String, byte[]> before = read(original);
        Map<String, byte[]> after = read(upgraded);

        assertThat(after.keySet()).containsExactlyElementsOf(before.keySet());
        assertThat(summary.rewritten()).as("picocli's classes").isGreaterThan(150);
        assertThat(summary.rewritten() + summary.copied()).isEqualTo(before.size());
        for (var e : before.entrySet()) {
            String name = e.getKey();
            if (name.endsWith(".class") && !name.contains("module-info")) {
                assertThat(ClassFileUpgrade.majorVersion(e.getValue())).as("%s before", name).isLessThan(50);
                assertThat(ClassFileUpgrade.majorVersion(after.get(name))).as(name).isEqualTo(52);
            } else {
                assertThat(after.get(name)).as("%s is copied as it is", name).isEqualTo(e.getValue());
            }
        }
    }

    @Test
    void upgrade_picocli_keepsEveryMethodsInstructions_addsFramesWhereCodeBranches() throws IOException {
        Map<String, byte[]> before = read(original);
        Map<String, byte[]> after = read(upgraded);
        int branching = 0;
        for (String name : classNames(before)) {
            ClassModel old = ClassFile.of().parse(before.get(name));
            ClassModel now = ClassFile.of().parse(after.get(name));
            assertThat(now.methods()).hasSameSizeAs(old.methods());
            for (int i = 0; i < old.methods().size(); i++) {
                MethodModel m = now.methods().get(i);
                String where = name + " " + m.methodName().stringValue() + m.methodType().stringValue();
                assertThat(m.methodName().stringValue()).isEqualTo(old.methods().get(i).methodName().stringValue());
                List<String> oldCode = instructions(old.methods().get(i));
                assertThat(instructions(m)).as(where).isEqualTo(oldCode);
                boolean branches = m.code().map(c -> c.elementStream()
                        .anyMatch(el -> el instanceof BranchInstruction)).orElse(false);
                if (branches) {
                    branching++;
                    assertThat(m.code().orElseThrow().findAttribute(Attributes.stackMapTable()))
                            .as("%s has stack-map frames", where).isPresent();
                }
            }
        }
        assertThat(branching).as("methods with branches checked").isGreaterThan(500);
    }

    @Test
    void upgrade_picocli_passesTheClassFileVerifier() throws IOException {
        Map<String, byte[]> after = read(upgraded);
        ClassFile verifier = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
                ClassHierarchyResolver.ofResourceParsing(desc -> {
                    String d = desc.descriptorString();
                    byte[] b = after.get(d.substring(1, d.length() - 1) + ".class");
                    return b == null ? null : new java.io.ByteArrayInputStream(b);
                }).orElse(ClassHierarchyResolver.defaultResolver())));
        List<String> errors = new ArrayList<>();
        for (String name : classNames(after)) {
            verifier.verify(after.get(name)).forEach(e -> errors.add(name + ": " + e.getMessage()));
        }
        assertThat(errors).isEmpty();
    }

    @Test
    void upgradedPicocli_everyClassLoadsAndVerifiesInTheJvm_andRunsAHelpText() throws Exception {
        Map<String, byte[]> after = read(upgraded);
        // parent: the platform loader, so that picocli comes from the upgraded jar, not from the test class path
        try (var loader = new URLClassLoader(new URL[] {upgraded.toUri().toURL()},
                ClassLoader.getPlatformClassLoader())) {
            for (String name : classNames(after)) {
                String binary = name.substring(0, name.length() - ".class".length()).replace('/', '.');
                Class<?> c = Class.forName(binary, true, loader); // initializing links, which verifies
                assertThat(c.getClassLoader()).isSameAs(loader);
            }
            // a picocli help text, through the upgraded classes only
            Class<?> spec = loader.loadClass("picocli.CommandLine$Model$CommandSpec");
            Object s = spec.getMethod("create").invoke(null);
            spec.getMethod("name", String.class).invoke(s, "qvm-example");
            Class<?> cl = loader.loadClass("picocli.CommandLine");
            Object commandLine = cl.getConstructor(Object.class).newInstance(s);
            String usage = (String) cl.getMethod("getUsageMessage").invoke(commandLine);
            assertThat(usage).startsWith("Usage: qvm-example");
        }
    }

    @Test
    void upgrade_sameInputAgain_leavesTheOutputFileUntouched() throws IOException {
        Path out = dir.resolve("again.jar");
        assertThat(ClassFileUpgrade.upgrade(original, out).written()).isTrue();
        FileTime written = FileTime.fromMillis(1_000_000_000_000L);
        Files.setLastModifiedTime(out, written);

        ClassFileUpgrade.Summary second = ClassFileUpgrade.upgrade(original, out);

        assertThat(second.written()).isFalse();
        assertThat(Files.getLastModifiedTime(out)).isEqualTo(written);
        assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(upgraded));
    }

    @Test
    void upgrade_modernClassesAndResources_areCopiedAsTheyAre() throws IOException {
        byte[] modern = ClassFile.of().build(java.lang.constant.ClassDesc.of("example.Modern"), b -> {});
        Path in = dir.resolve("modern-in.jar");
        try (var zip = new ZipOutputStream(Files.newOutputStream(in))) {
            zip.putNextEntry(new ZipEntry("example/Modern.class"));
            zip.write(modern);
            zip.putNextEntry(new ZipEntry("example/notes.txt"));
            zip.write("hello".getBytes(StandardCharsets.UTF_8));
        }
        Path out = dir.resolve("modern-out.jar");

        ClassFileUpgrade.Summary s = ClassFileUpgrade.upgrade(in, out);

        assertThat(s.rewritten()).isZero();
        assertThat(s.copied()).isEqualTo(2);
        assertThat(read(out).get("example/Modern.class")).isEqualTo(modern);
        assertThat(read(out).get("example/notes.txt")).asString(StandardCharsets.UTF_8).isEqualTo("hello");
    }

    @Test
    void upgrade_aFileThatIsNoClass_saysWhich() throws IOException {
        Path in = dir.resolve("broken.jar");
        try (var zip = new ZipOutputStream(Files.newOutputStream(in))) {
            zip.putNextEntry(new ZipEntry("example/Broken.class"));
            zip.write("not a class".getBytes(StandardCharsets.UTF_8));
        }

        assertThatThrownBy(() -> ClassFileUpgrade.upgrade(in, dir.resolve("broken-out.jar")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("example/Broken.class");
        assertThat(dir.resolve("broken-out.jar")).doesNotExist();
    }

    @Test
    void moduleDirectory_holdsTheUpgradedPicocli() throws IOException {
        Path launchers = ROOT.resolve("packaging/target/modules/picocli.jar");
        assertThat(Files.readAllBytes(launchers)).as("%s is ClassFileUpgrade's output", launchers)
                .isEqualTo(Files.readAllBytes(upgraded));
    }

    private static List<String> classNames(Map<String, byte[]> entries) {
        return entries.keySet().stream()
                .filter(n -> n.endsWith(".class") && !n.contains("module-info"))
                .toList();
    }

    private static List<String> instructions(MethodModel m) {
        List<String> out = new ArrayList<>();
        m.code().ifPresent(code -> {
            for (CodeElement el : code) {
                if (el instanceof Instruction i) out.add(i.opcode().name());
            }
        });
        return out;
    }

    private static Map<String, byte[]> read(Path jar) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (ZipEntry e : Collections.list(zip.entries())) {
                out.put(e.getName(), zip.getInputStream(e).readAllBytes());
            }
        }
        return out;
    }
}
