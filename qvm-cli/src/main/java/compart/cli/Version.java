package compart.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/** {@code --version}: the command's name, Compart's version (from the build) and licence line. */
public final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
        var props = new Properties();
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                props.load(in);
            }
        }
        return new String[] {
            "${COMMAND-NAME} (Compart, a Java toolstack for Xen with the Qubes OS model) "
                    + props.getProperty("version", "unknown")
        };
    }
}
