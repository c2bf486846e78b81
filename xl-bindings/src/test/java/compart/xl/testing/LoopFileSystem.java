package compart.xl.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real filesystem for tests: a sparse image under {@code target/} formatted and loop-mounted (xfs with reflink,
 * btrfs, ext4), or a tmpfs. Needs root and the mkfs tool; otherwise the calling test is skipped with the reason.
 * {@link #close()} always unmounts and deletes the image. Shared with the volumes and toolstack-core tests through this
 * module's test-jar. A test class that works on one file system throughout registers {@link #perClass}.
 */
public final class LoopFileSystem implements AutoCloseable {
    private final Path mountPoint;
    private final Path image;

    private LoopFileSystem(Path mountPoint, Path image) {
        this.mountPoint = mountPoint;
        this.image = image;
    }

    /** @param type {@code xfs} (made with {@code -m reflink=1}), {@code xfs-noreflink}, {@code btrfs}, {@code ext4} or {@code tmpfs} */
    public static LoopFileSystem mount(String type, long sizeBytes) throws IOException, InterruptedException {
        assumeTrue(isRoot(), "needs root to loop-mount " + type + " (CI runs as root)");
        Path base = Path.of("target", "loopfs").toAbsolutePath();
        Files.createDirectories(base);
        Path dir = Files.createTempDirectory(base, type + "-");
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        if (type.equals("tmpfs")) {
            run("mount", "-t", "tmpfs", "-o", "size=" + sizeBytes, "tmpfs", mnt.toString());
            return new LoopFileSystem(mnt, null);
        }
        List<String> mkfs = switch (type) {
            case "xfs" -> List.of("mkfs.xfs", "-q", "-f", "-m", "reflink=1");
            case "xfs-noreflink" -> List.of("mkfs.xfs", "-q", "-f", "-m", "reflink=0");
            case "btrfs" -> List.of("mkfs.btrfs", "-q", "-f");
            case "ext4" -> List.of("mkfs.ext4", "-q", "-F");
            default -> throw new IllegalArgumentException(type);
        };
        assumeTrue(onPath(mkfs.getFirst()), mkfs.getFirst() + " is not installed (apt-get install xfsprogs btrfs-progs)");
        Path img = dir.resolve("fs.img");
        try (var ch = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.position(sizeBytes - 1);
            ch.write(java.nio.ByteBuffer.wrap(new byte[1]));
        }
        List<String> cmd = new ArrayList<>(mkfs);
        cmd.set(0, resolve(mkfs.getFirst()));
        cmd.add(img.toString());
        run(cmd.toArray(String[]::new));
        run("mount", "-o", "loop", img.toString(), mnt.toString());
        return new LoopFileSystem(mnt, img);
    }

    public Path root() {
        return mountPoint;
    }

    /**
     * @param type      as for {@link #mount}
     * @param sizeBytes the image's size
     * @return a file system mounted before the test class's first test and unmounted after its last; register it as
     *         a static {@code @RegisterExtension} field
     */
    public static PerClass perClass(String type, long sizeBytes) {
        return new PerClass(type, sizeBytes);
    }

    /** One file system for a whole test class (a JUnit extension; skips the class as {@link #mount} would). */
    public static final class PerClass implements BeforeAllCallback, AfterAllCallback {
        private final String type;
        private final long sizeBytes;
        private LoopFileSystem mounted;

        private PerClass(String type, long sizeBytes) {
            this.type = type;
            this.sizeBytes = sizeBytes;
        }

        @Override
        public void beforeAll(ExtensionContext context) throws Exception {
            mounted = mount(type, sizeBytes);
        }

        @Override
        public void afterAll(ExtensionContext context) throws Exception {
            if (mounted != null) {
                mounted.close();
                mounted = null;
            }
        }

        /** @return the mount point, while the test class runs */
        public Path root() {
            if (mounted == null) {
                throw new IllegalStateException(type + " is mounted only while its test class runs");
            }
            return mounted.root();
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            run("umount", mountPoint.toString());
        } finally {
            if (image != null) {
                Files.deleteIfExists(image);
            }
        }
    }

    public static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("Uid:")).anyMatch(l -> l.split("\\s+")[1].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }

    public static boolean onPath(String tool) {
        return !resolve(tool).equals(tool);
    }

    /** @return the tool's absolute path (PATH, then /usr/sbin and /sbin), or the name itself if not found */
    public static String resolve(String tool) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin"));
        for (String d : dirs) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
                return Path.of(d, tool).toString();
            }
        }
        return tool;
    }

    public static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }
}
