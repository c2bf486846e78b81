package compart.packaging;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a launcher of {@code bin/} says: {@code exec ".../.launch" "$0" [--native] MODULE/MAIN "$@"}.
 *
 * @param name       the command's name (the file's)
 * @param module     the module of its main class
 * @param mainClass  its main class
 * @param nativeAccess whether it asks for native access (FFM)
 */
public record Launcher(String name, String module, String mainClass, boolean nativeAccess) {
    private static final Pattern LINE = Pattern.compile(
            "exec \"\\$\\(dirname \"\\$\\(readlink -f \"\\$0\"\\)\"\\)/\\.launch\" \"\\$0\" (--native )?"
                    + "([a-z][a-z0-9.]*)/([A-Za-z0-9_.]+) \"\\$@\"");

    /**
     * @param file a launcher
     * @return what it launches
     * @throws IllegalArgumentException when its last line is not of the shape every launcher has
     */
    public static Launcher read(Path file) throws IOException {
        String text = Files.readString(file).strip();
        String last = text.substring(text.lastIndexOf('\n') + 1);
        var m = LINE.matcher(last);
        if (!m.matches()) {
            throw new IllegalArgumentException(file + ": not a bin/ launcher line: " + last);
        }
        return new Launcher(file.getFileName().toString(), m.group(2), m.group(3), m.group(1) != null);
    }

    /**
     * @param bin a directory of launchers ({@code bin/})
     * @return every launcher in it that starts a Java command through {@code .launch}, sorted by name
     */
    public static List<Launcher> all(Path bin) throws IOException {
        try (Stream<Path> files = Files.list(bin)) {
            List<Path> launchers = files.filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> {
                        try {
                            return Files.readString(p).contains("/.launch");
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    })
                    .sorted()
                    .toList();
            var result = new ArrayList<Launcher>();
            for (Path p : launchers) {
                result.add(read(p));
            }
            return List.copyOf(result);
        }
    }
}
