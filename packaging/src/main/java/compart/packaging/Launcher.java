package compart.packaging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * What a launcher of {@code bin/} says: {@code exec ".../.launch" "$0" [--native] MODULE/MAIN "$@"}.
 *
 * @param name       the command's name (the file's)
 * @param module     the module of its main class
 * @param mainClass  its main class
 * @param nativeAccess whether it asks for native access (FFM)
 */
record Launcher(String name, String module, String mainClass, boolean nativeAccess) {
    private static final Pattern LINE = Pattern.compile(
            "exec \"\\$\\(dirname \"\\$\\(readlink -f \"\\$0\"\\)\"\\)/\\.launch\" \"\\$0\" (--native )?"
                    + "([a-z][a-z0-9.]*)/([A-Za-z0-9_.]+) \"\\$@\"");

    /**
     * @param file a launcher
     * @return what it launches
     * @throws IllegalArgumentException when its last line is not of the shape every launcher has
     */
    static Launcher read(Path file) throws IOException {
        String text = Files.readString(file).strip();
        String last = text.substring(text.lastIndexOf('\n') + 1);
        var m = LINE.matcher(last);
        if (!m.matches()) {
            throw new IllegalArgumentException(file + ": not a bin/ launcher line: " + last);
        }
        return new Launcher(file.getFileName().toString(), m.group(2), m.group(3), m.group(1) != null);
    }
}
