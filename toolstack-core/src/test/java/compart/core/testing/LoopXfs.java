package compart.core.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real XFS made with {@code -m reflink=1} on a sparse image under {@code target/}, loop-mounted for one test
 * class. Needs root and mkfs.xfs: otherwise the test is skipped with the reason (CI runs as root with xfsprogs).
 */
public final class LoopXfs implements AutoCloseable {
    private final Path mount;
    private final Path image;

    private LoopXfs(Path mount, Path image) {
        this.mount = mount;
        this.image = image;
    }

    /** Mounts a fresh XFS of {@code sizeMib} MiB, or skips the calling test. */
    public static LoopXfs mount(long sizeMib) throws IOException, InterruptedException {
        assumeTrue(isRoot(), "needs root to loop-mount XFS with reflink (CI runs as root)");
        String mkfs = Files.isExecutable(Path.of("/usr/sbin/mkfs.xfs")) ? "/usr/sbin/mkfs.xfs" : "/sbin/mkfs.xfs";
        assumeTrue(Files.isExecutable(Path.of(mkfs)), "mkfs.xfs is not installed (apt-get install xfsprogs)");
        Path base = Files.createDirectories(Path.of("target", "loopfs").toAbsolutePath());
        Path dir = Files.createTempDirectory(base, "xfs-");
        Path img = dir.resolve("fs.img");
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        try (var f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(sizeMib << 20);
        }
        run(mkfs, "-q", "-f", "-m", "reflink=1", img.toString());
        run("mount", "-o", "loop", img.toString(), mnt.toString());
        return new LoopXfs(mnt, img);
    }

    /** @return the mount point */
    public Path root() {
        return mount;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            run("umount", mount.toString());
        } finally {
            Files.deleteIfExists(image);
        }
    }

    /** @return whether this process runs as root */
    public static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                    .anyMatch(l -> l.split("\\s+")[1].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
