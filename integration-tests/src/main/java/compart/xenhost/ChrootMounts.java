package compart.xenhost;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The kernel filesystems a chroot needs while packages are installed ({@code /proc}, {@code /sys} and the
 * host's {@code /dev} bound in), unmounted again on close; and a tree deletion that refuses to run while
 * anything is still mounted below the tree, because deleting through a bound {@code /dev} would wipe the host's.
 */
final class ChrootMounts implements AutoCloseable {
    private final List<Path> mounted = new ArrayList<>();
    private final Path log;

    private ChrootMounts(Path log) {
        this.log = log;
    }

    static ChrootMounts mount(Path rootfs, Path log) {
        var mounts = new ChrootMounts(log);
        try {
            mounts.add(rootfs.resolve("proc"), "-t", "proc", "proc");
            mounts.add(rootfs.resolve("sys"), "-t", "sysfs", "sysfs");
            mounts.add(rootfs.resolve("dev"), "--bind", "/dev");
            mounts.add(rootfs.resolve("dev/pts"), "-t", "devpts", "devpts");
            return mounts;
        } catch (RuntimeException e) {
            mounts.close();
            throw e;
        }
    }

    private void add(Path target, String... how) {
        var argv = new ArrayList<>(List.of("mount"));
        argv.addAll(List.of(how));
        argv.add(target.toString());
        new HostCommand(argv, Map.of(), log, Duration.ofMinutes(1)).run();
        mounted.addFirst(target);
    }

    @Override
    public void close() {
        for (Path target : mounted) {
            HostCommand.of(log, "umount", "-l", target.toString()).run();
        }
        mounted.clear();
    }

    /** Deletes {@code tree} (without crossing into other filesystems); refuses if something is mounted below. */
    static void deleteTree(Path tree, Path log) {
        Path absolute = tree.toAbsolutePath().normalize();
        for (Path mountPoint : mountPointsBelow(absolute).reversed()) {
            HostCommand.of(log, "umount", "-l", mountPoint.toString()).run();
        }
        List<Path> left = mountPointsBelow(absolute);
        if (!left.isEmpty()) {
            throw new CompartException(ErrorKind.INVALID_STATE, "will not delete " + absolute
                    + ": still mounted below it: " + left + "; unmount them and retry");
        }
        HostCommand.of(log, "rm", "-rf", "--one-file-system", absolute.toString()).run();
    }

    /** Mount points strictly below {@code dir}, shortest first (from /proc/self/mounts). */
    static List<Path> mountPointsBelow(Path dir) {
        try {
            return parseMountPoints(Files.readString(Path.of("/proc/self/mounts"), StandardCharsets.UTF_8)).stream()
                    .filter(p -> p.startsWith(dir) && !p.equals(dir))
                    .sorted(Comparator.comparingInt(Path::getNameCount))
                    .toList();
        } catch (IOException e) {
            throw new CompartException(ErrorKind.INVALID_STATE, "cannot read /proc/self/mounts: " + e.getMessage(), e);
        }
    }

    /** The mount points of a mounts table ({@code fstab} format; octal escapes such as {@code \040} decoded). */
    static List<Path> parseMountPoints(String table) {
        var points = new ArrayList<Path>();
        for (String line : table.split("\n")) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length >= 2 && !fields[0].startsWith("#")) {
                points.add(Path.of(unescape(fields[1])));
            }
        }
        return points;
    }

    private static String unescape(String field) {
        var text = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length() && field.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                text.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                text.append(c);
            }
        }
        return text.toString();
    }
}
