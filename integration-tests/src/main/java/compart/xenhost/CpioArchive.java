package compart.xenhost;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/**
 * Writes a cpio archive in the "newc" format the Linux kernel unpacks as an initramfs. Written here rather
 * than run with {@code cpio} so that a guest's initramfs needs neither root (for {@code mknod}) nor a staging
 * tree, and is byte-for-byte reproducible (fixed inode numbers and times).
 *
 * <p>Format (kernel {@code Documentation/driver-api/early-userspace/buffer-format.rst}): per entry a
 * 110-byte ASCII header ("070701" and 13 eight-digit hex fields), the NUL-terminated name padded to a multiple
 * of 4 bytes (counting the header), then the data padded to a multiple of 4; last an entry "TRAILER!!!".
 *
 * <p>Entries must be added parents first. Not thread-safe; {@link #finish()} writes the trailer.
 */
public final class CpioArchive {
    private static final int S_IFDIR = 0040000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFCHR = 0020000;

    private final OutputStream out;
    private final Set<String> names = new LinkedHashSet<>();
    private int nextInode = 1;
    private long written;
    private boolean finished;

    public CpioArchive(OutputStream out) {
        this.out = Objects.requireNonNull(out, "out");
    }

    /** A directory, e.g. {@code directory("dev", 0755)}. */
    public CpioArchive directory(String name, int permissions) throws IOException {
        return entry(name, S_IFDIR | permissions, 2, 0, 0, new byte[0]);
    }

    /** A regular file with the given content. */
    public CpioArchive file(String name, int permissions, byte[] content) throws IOException {
        return entry(name, S_IFREG | permissions, 1, 0, 0, content);
    }

    /** A symbolic link {@code name -> target}. */
    public CpioArchive symlink(String name, String target) throws IOException {
        return entry(name, S_IFLNK | 0777, 1, 0, 0, target.getBytes(StandardCharsets.UTF_8));
    }

    /** A character device node, e.g. {@code characterDevice("dev/console", 0600, 5, 1)}. */
    public CpioArchive characterDevice(String name, int permissions, int major, int minor) throws IOException {
        return entry(name, S_IFCHR | permissions, 1, major, minor, new byte[0]);
    }

    /** Writes the trailer entry; the archive is complete afterwards. Does not close the stream. */
    public void finish() throws IOException {
        writeEntry("TRAILER!!!", 0, 0, 1, 0, 0, new byte[0]);
        finished = true;
    }

    private CpioArchive entry(String name, int mode, int links, int rdevMajor, int rdevMinor, byte[] data)
            throws IOException {
        if (finished) {
            throw new IllegalStateException("archive already finished");
        }
        if (name.isEmpty() || name.startsWith("/") || name.endsWith("/") || name.contains("//")
                || name.equals("TRAILER!!!")) {
            throw new IllegalArgumentException("bad cpio entry name '" + name + "': relative, no trailing '/'");
        }
        int slash = name.lastIndexOf('/');
        if (slash > 0 && !names.contains(name.substring(0, slash))) {
            throw new IllegalArgumentException("cpio entry '" + name + "' added before its directory");
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("cpio entry '" + name + "' added twice");
        }
        writeEntry(name, nextInode++, mode, links, rdevMajor, rdevMinor, data);
        return this;
    }

    private void writeEntry(String name, int inode, int mode, int links, int rdevMajor, int rdevMinor, byte[] data)
            throws IOException {
        byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
        StringBuilder header = new StringBuilder(110).append("070701");
        for (long field : new long[] {inode, mode, 0 /* uid */, 0 /* gid */, links, 0 /* mtime */, data.length,
                0 /* devmajor */, 0 /* devminor */, rdevMajor, rdevMinor, nameBytes.length, 0 /* check */}) {
            header.append(String.format("%08x", field));
        }
        write(header.toString().getBytes(StandardCharsets.US_ASCII));
        write(nameBytes);
        pad();
        write(data);
        pad();
    }

    private void write(byte[] bytes) throws IOException {
        out.write(bytes);
        written += bytes.length;
    }

    private void pad() throws IOException {
        while (written % 4 != 0) {
            out.write(0);
            written++;
        }
    }

    /** Convenience for tests and small archives: builds one in memory. */
    public static byte[] inMemory(ArchiveContent content) throws IOException {
        var bytes = new ByteArrayOutputStream();
        var archive = new CpioArchive(bytes);
        content.addTo(archive);
        archive.finish();
        return bytes.toByteArray();
    }

    /** What goes into an archive built by {@link #inMemory}. */
    @FunctionalInterface
    public interface ArchiveContent {
        void addTo(CpioArchive archive) throws IOException;
    }
}
