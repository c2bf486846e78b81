package compart.xenhost;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What this machine lacks to build or boot the Xen host: root, and programs from Debian packages.
 *
 * @param problems one sentence per missing thing, each naming the package that provides it; empty if all is there
 */
public record Prerequisites(List<String> problems) {

    /** Program to the Debian package that provides it. */
    static final Map<String, String> BOOT_TOOLS = Map.of("qemu-system-x86_64", "qemu-system-x86");
    static final Map<String, String> IMAGE_BUILD_TOOLS = Map.of(
            "debootstrap", "debootstrap",
            "chroot", "coreutils",
            "mount", "mount",
            "tar", "tar",
            "zstd", "zstd",
            "mkfs.ext4", "e2fsprogs");

    /** The apt-get line that installs everything the harness needs (what .ci/run installs). */
    public static final String INSTALL_HINT =
            "apt-get install -y --no-install-recommends qemu-system-x86 qemu-utils debootstrap zstd e2fsprogs";

    public Prerequisites {
        problems = List.copyOf(problems);
    }

    public boolean met() {
        return problems.isEmpty();
    }

    /** Checks root and the given programs (program -> package) on {@code PATH}, /usr/sbin and /sbin. */
    public static Prerequisites check(Map<String, String> programs) {
        var problems = new ArrayList<String>();
        if (!isRoot()) {
            problems.add("not running as root (debootstrap, chroot and mknod need it; CI runs as root)");
        }
        programs.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(program -> {
            if (findProgram(program.getKey(), System.getenv("PATH")) == null) {
                problems.add(program.getKey() + " not found (Debian package " + program.getValue() + ")");
            }
        });
        return new Prerequisites(problems);
    }

    /** Throws, naming every problem and the command that fixes them, unless all is met. */
    public void requireMet(String toDoWhat) {
        if (!met()) {
            throw new CompartException(ErrorKind.INVALID_STATE, "cannot " + toDoWhat + ": "
                    + String.join("; ", problems) + ". As root: " + INSTALL_HINT);
        }
    }

    /** The program's path, looked up in {@code path} (a PATH value) and the sbin directories; null if absent. */
    static Path findProgram(String name, String path) {
        var dirs = new ArrayList<String>();
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.addAll(List.of("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0"); // effective uid
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }
}
