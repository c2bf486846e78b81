package compart.xenhost;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads installed package versions from a root filesystem's dpkg database, for the image manifest. */
final class DebianPackages {
    private DebianPackages() {}

    /** Installed versions of {@code names} (those not installed are left out), in the order asked. */
    static Map<String, String> versions(Path rootfs, List<String> names) throws IOException {
        Map<String, String> all = parseStatus(Files.readString(rootfs.resolve("var/lib/dpkg/status"),
                StandardCharsets.UTF_8));
        var wanted = new LinkedHashMap<String, String>();
        for (String name : names) {
            if (all.containsKey(name)) {
                wanted.put(name, all.get(name));
            }
        }
        return wanted;
    }

    /** Package name to version for every stanza of a dpkg status file whose status ends in "installed". */
    static Map<String, String> parseStatus(String status) {
        var versions = new LinkedHashMap<String, String>();
        for (String stanza : status.split("\n\n")) {
            String name = null;
            String version = null;
            boolean installed = false;
            for (String line : stanza.split("\n")) {
                if (line.startsWith("Package: ")) {
                    name = line.substring(9).trim();
                } else if (line.startsWith("Version: ")) {
                    version = line.substring(9).trim();
                } else if (line.startsWith("Status: ")) {
                    installed = line.trim().endsWith(" installed");
                }
            }
            if (name != null && version != null && installed) {
                versions.put(name, version);
            }
        }
        return versions;
    }
}
