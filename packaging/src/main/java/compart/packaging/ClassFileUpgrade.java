package compart.packaging;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Rewrites the classes of a jar compiled for an old class-file version (before 50, Java 6: no stack-map frames)
 * to version 52 (Java 8) with stack-map frames computed by the JDK's {@code java.lang.classfile} API, and changes
 * nothing else: same entries in the same order with the same times, same constant pool, same instructions.
 *
 * <p>Why: the JDK 25 ahead-of-time cache ({@code -XX:AOTCache}) does not store classes older than version 50
 * ("Old class has been linked"), so every start of a command loads and verifies those from the jar again.
 * picocli 4.7.7 ships Java 5 class files: about 170 classes that each {@code qvm-*} command loads. Packaging runs
 * this on picocli's jar when it gathers the launchers' module path ({@code target/modules}), so that the caches
 * made by {@code src/build/aot-train.sh} hold picocli too.
 *
 * <p>Classes at version 50 or later, {@code module-info.class} and other entries are copied as they are. Types
 * the frames need (common supertypes) are read from the jar itself, then from the running JDK. An output file
 * that already holds exactly the result is left untouched (its time too: an AOT cache made from it stays valid).
 *
 * <p>Usage: {@code ClassFileUpgrade IN_JAR OUT_JAR}. Not thread-safe; one call per jar.
 */
public final class ClassFileUpgrade {

    /** The version classes are rewritten to: the oldest one whose classes the AOT cache stores, and Java 8's. */
    static final int TARGET_MAJOR = ClassFile.JAVA_8_VERSION;

    private static final int FIRST_WITH_STACK_MAPS = ClassFile.JAVA_6_VERSION;

    private ClassFileUpgrade() {}

    /** What {@link #upgrade} did: classes rewritten, entries copied, and whether the output file was written. */
    record Summary(int rewritten, int copied, boolean written) {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: ClassFileUpgrade IN_JAR OUT_JAR");
            System.exit(2);
        }
        Path in = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Summary s = upgrade(in, out);
        System.out.printf("class-file upgrade: %s -> %s: %d classes rewritten to version %d with stack maps, "
                + "%d entries copied%s%n", in.getFileName(), out, s.rewritten(), TARGET_MAJOR, s.copied(),
                s.written() ? "" : " (unchanged)");
    }

    /**
     * Writes {@code out}: {@code in} with every class file older than version 50 rewritten to version
     * {@link #TARGET_MAJOR} with stack-map frames.
     *
     * @throws IOException reading {@code in} or writing {@code out}
     * @throws IllegalArgumentException when a class cannot be rewritten (a type the frames need is on neither the
     *         jar nor the JDK, or old-style subroutines {@code jsr}/{@code ret}, which version 50 forbids)
     */
    static Summary upgrade(Path in, Path out) throws IOException {
        Map<String, ZipEntry> entries = new LinkedHashMap<>();
        Map<String, byte[]> contents = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(in.toFile())) {
            for (ZipEntry e : Collections.list(zip.entries())) {
                entries.put(e.getName(), e);
                contents.put(e.getName(), e.isDirectory() ? new byte[0] : zip.getInputStream(e).readAllBytes());
            }
        }
        ClassFile classFile = ClassFile.of(
                ClassFile.StackMapsOption.GENERATE_STACK_MAPS,
                ClassFile.ClassHierarchyResolverOption.of(resolverOver(contents)));

        var bytes = new ByteArrayOutputStream();
        int rewritten = 0;
        int copied = 0;
        try (var zip = new ZipOutputStream(bytes)) {
            for (var e : entries.values()) {
                byte[] content = contents.get(e.getName());
                if (isOldClass(e.getName(), content)) {
                    content = rewrite(classFile, e.getName(), content);
                    rewritten++;
                } else {
                    copied++;
                }
                var copy = new ZipEntry(e.getName());
                copy.setTime(e.getTime());
                if (e.getComment() != null) copy.setComment(e.getComment());
                zip.putNextEntry(copy);
                zip.write(content);
                zip.closeEntry();
            }
        }
        byte[] result = bytes.toByteArray();
        if (Files.isRegularFile(out) && Arrays.equals(Files.readAllBytes(out), result)) {
            return new Summary(rewritten, copied, false);
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        Files.write(tmp, result);
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
        return new Summary(rewritten, copied, true);
    }

    /** The class-file major version in a class file's header. */
    static int majorVersion(byte[] classBytes) {
        if (classBytes.length < 8 || (classBytes[0] & 0xff) != 0xCA || (classBytes[1] & 0xff) != 0xFE
                || (classBytes[2] & 0xff) != 0xBA || (classBytes[3] & 0xff) != 0xBE) {
            throw new IllegalArgumentException("not a class file (no CAFEBABE header)");
        }
        return (classBytes[6] & 0xff) << 8 | (classBytes[7] & 0xff);
    }

    private static boolean isOldClass(String name, byte[] content) {
        if (!name.endsWith(".class") || name.endsWith("module-info.class") || name.startsWith("META-INF/versions/")) {
            return false;
        }
        try {
            return majorVersion(content) < FIRST_WITH_STACK_MAPS;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
    }

    private static byte[] rewrite(ClassFile classFile, String name, byte[] content) {
        ClassModel model = classFile.parse(content);
        ClassTransform version = (builder, element) -> {
            if (element instanceof ClassFileVersion) builder.withVersion(TARGET_MAJOR, 0);
            else builder.with(element);
        };
        try {
            // Passing each method body through a code builder (instead of copying it) is what makes the frames.
            return classFile.transformClass(model,
                    version.andThen(ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": cannot rewrite to version " + TARGET_MAJOR
                    + " with stack maps: " + e.getMessage(), e);
        }
    }

    /** Supertype lookups for the frames: the jar's own classes first, then the running JDK's. */
    private static ClassHierarchyResolver resolverOver(Map<String, byte[]> contents) {
        return ClassHierarchyResolver.ofResourceParsing(desc -> {
            String d = desc.descriptorString();
            byte[] b = contents.get(d.substring(1, d.length() - 1) + ".class");
            return b == null ? null : new ByteArrayInputStream(b);
        }).orElse(ClassHierarchyResolver.defaultResolver()).cached();
    }
}
