package compart.volumes;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The start of a command line for a second JVM that tests run as a separate process (a process to kill, or one with
 * its own heap): this JVM's {@code java}, the options every such child gets, and a class path of everything this
 * JVM sees (its module path and class path) plus the code sources of the given classes.
 */
public final class ChildJvm {
    private ChildJvm() {
    }

    /** @return {@code java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED OPTIONS -cp CP} */
    public static List<String> command(List<String> options, Class<?>... onClassPath) {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(options);
        cmd.addAll(List.of("-cp", classPath(onClassPath)));
        return cmd;
    }

    private static String classPath(Class<?>... classes) {
        Set<String> cp = new LinkedHashSet<>();
        for (String prop : new String[] {"jdk.module.path", "java.class.path"}) {
            String v = System.getProperty(prop, "");
            if (!v.isEmpty()) {
                cp.addAll(Arrays.asList(v.split(File.pathSeparator)));
            }
        }
        try {
            for (Class<?> c : classes) {
                cp.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
            }
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return String.join(File.pathSeparator, cp);
    }
}
