package compart.volumes.reflink;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.xl.linux.Extent;
import compart.xl.linux.LinuxFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * File operations that are atomic and durable: new content is built in a temporary file next to its target
 * ({@code target~XXXX}), fsynced, renamed over the target, and the directory fsynced. After a crash a target is
 * either old or new, never partial; temporaries left behind are removed by the volume's repair.
 *
 * <p>Where the filesystem cannot reflink (a pool with {@code setup_check=no} on ext4, tmpfs …), every
 * {@link #cloneTo} makes a sparse copy instead — only the source's written extents (FIEMAP) are copied, holes stay
 * holes — built, fsynced and renamed into place exactly like a clone, and {@link #bytesToCopy} tells the capacity
 * check what such a copy allocates.
 */
final class DurableFiles {
    /** Mode of every image and temporary installed by {@link #rename}: as the unit's umask (0007) gives it. */
    private static final Set<PosixFilePermission> IMAGE_MODE = PosixFilePermissions.fromString("rw-rw----");

    /** Temporary files carry this mark in their name. */
    static final char TMP_MARK = '~';

    private final CrashPoints crash;
    private final boolean reflinks;

    /** @param reflinks whether the filesystem shares blocks (FICLONE); when not, clones are sparse copies */
    DurableFiles(CrashPoints crash, boolean reflinks) {
        this.crash = crash;
        this.reflinks = reflinks;
    }

    /** @return whether clones share blocks (false: they are copies) */
    boolean reflinks() {
        return reflinks;
    }

    /**
     * @return the bytes that {@link #cloneTo} of {@code source} allocates: none for a reflink, the written extents
     *         for a copy
     */
    long bytesToCopy(Path source) {
        if (reflinks || !Files.exists(source)) {
            return 0;
        }
        return writtenExtents(source).stream().mapToLong(Extent::length).sum();
    }

    /** Atomically replaces {@code target} by an empty sparse file of {@code size} bytes. */
    void createSparse(Path target, long size) {
        Path tmp = tmpFor(target);
        try {
            Files.createFile(tmp);
            crash.passed("create " + tmp.getFileName());
            try (RandomAccessFile f = new RandomAccessFile(tmp.toFile(), "rw")) {
                f.setLength(size);
                f.getFD().sync();
            }
            crash.passed("fsync " + tmp.getFileName());
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw io("create sparse image " + target, e);
        }
        rename(tmp, target);
    }

    /**
     * Atomically replaces {@code target} by a reflink clone of {@code source} (grown to {@code minSize}), or by a
     * sparse copy where the filesystem cannot reflink.
     */
    void cloneTo(Path source, Path target, long minSize) {
        Path tmp = tmpFor(target);
        try {
            if (reflinks) {
                LinuxFile.cloneFile(source, tmp);
                crash.passed("clone " + source.getFileName() + " -> " + tmp.getFileName());
            } else {
                copySparse(source, tmp);
                crash.passed("copy " + source.getFileName() + " -> " + tmp.getFileName());
            }
            try (RandomAccessFile f = new RandomAccessFile(tmp.toFile(), "rw")) {
                if (f.length() < minSize) {
                    f.setLength(minSize);
                }
                f.getFD().sync();
            }
            crash.passed("fsync " + tmp.getFileName());
        } catch (IOException | RuntimeException e) {
            throw abandoned(tmp, "clone " + source + " to " + target, e);
        }
        rename(tmp, target);
    }

    /**
     * Replaces {@code target} by a frozen view of {@code source}'s current content that later commits of the source
     * (which replace its file) do not change: a reflink clone, or where the filesystem cannot reflink a hard link,
     * which costs no copy. Only for files that are never written in place, such as the image a snapshot volume
     * started from; {@code target}'s old content is discarded first.
     */
    void snapshotTo(Path source, Path target) {
        if (reflinks) {
            cloneTo(source, target, 0);
            return;
        }
        delete(target); // a new link to the same inode would not replace it
        Path tmp = tmpFor(target);
        try {
            Files.createLink(tmp, source);
        } catch (IOException e) {
            throw io("link " + source + " to " + target, e);
        }
        crash.passed("link " + source.getFileName() + " -> " + tmp.getFileName());
        rename(tmp, target);
    }

    /** Atomically replaces {@code target} by exactly {@code size} bytes of {@code data}, kept sparse where zero. */
    void write(InputStream data, long size, Path target) {
        Path tmp = tmpFor(target);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            crash.passed("create " + tmp.getFileName());
            byte[] buf = new byte[1 << 20];
            long written = 0;
            while (written < size) {
                int n = data.readNBytes(buf, 0, (int) Math.min(buf.length, size - written));
                if (n == 0) {
                    throw CompartException.invalidValue("import into %s: the data ended after %d of %d bytes",
                            target.getFileName(), written, size);
                }
                if (!isZero(buf, n)) {
                    ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                    long pos = written;
                    while (bb.hasRemaining()) {
                        pos += ch.write(bb, pos);
                    }
                }
                written += n;
            }
            if (data.read() != -1) {
                throw CompartException.invalidValue("import into %s: the data is longer than the %d bytes announced",
                        target.getFileName(), size);
            }
        } catch (IOException | RuntimeException e) {
            throw abandoned(tmp, "write " + target, e);
        }
        try (RandomAccessFile f = new RandomAccessFile(tmp.toFile(), "rw")) {
            f.setLength(size); // a trailing run of zeros stays a hole
            f.getFD().sync();
            crash.passed("fsync " + tmp.getFileName());
        } catch (IOException | RuntimeException e) {
            throw abandoned(tmp, "write " + target, e);
        }
        rename(tmp, target);
    }

    /** fsyncs {@code file}'s data. */
    void fsync(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        } catch (IOException e) {
            throw io("fsync " + file, e);
        }
        crash.passed("fsync " + file.getFileName());
    }

    /** Grows {@code file} to {@code size} bytes in place (a single metadata change) and fsyncs it. */
    void grow(Path file, long size) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            if (f.length() < size) {
                f.setLength(size);
            }
            f.getFD().sync();
        } catch (IOException e) {
            throw io("grow " + file, e);
        }
        crash.passed("grow " + file.getFileName());
    }

    /** Atomically renames {@code from} to {@code to} (replacing it) and fsyncs the directory. */
    void rename(Path from, Path to) {
        try {
            Files.setPosixFilePermissions(from, IMAGE_MODE); // whatever the umask: owner and group only
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw io("rename " + from + " to " + to, e);
        }
        crash.passed("rename " + from.getFileName() + " -> " + to.getFileName());
        LinuxFile.fsyncDirectory(to.getParent());
        crash.passed("fsync dir of " + to.getFileName());
    }

    /** Removes {@code file} if it exists and fsyncs its directory. */
    void delete(Path file) {
        try {
            if (!Files.deleteIfExists(file)) {
                return;
            }
        } catch (IOException e) {
            throw io("remove " + file, e);
        }
        crash.passed("remove " + file.getFileName());
        LinuxFile.fsyncDirectory(file.getParent());
        crash.passed("fsync dir after removing " + file.getFileName());
    }

    /** Creates {@code dir} and its missing parents, fsyncing each parent that got a new entry. */
    void mkdirs(Path dir) {
        if (Files.isDirectory(dir)) {
            return;
        }
        mkdirs(dir.getParent());
        try {
            Files.createDirectory(dir);
        } catch (FileAlreadyExistsException e) {
            return;
        } catch (IOException e) {
            throw io("create directory " + dir, e);
        }
        LinuxFile.fsyncDirectory(dir.getParent());
        crash.passed("mkdir " + dir.getFileName());
    }

    /**
     * Copies the written extents of {@code source} into the new file {@code copy} (holes and unwritten extents stay
     * holes) and gives it {@code source}'s length. Not fsynced: the caller does.
     */
    private static void copySparse(Path source, Path copy) throws IOException {
        long size;
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(copy, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            size = in.size();
            for (Extent e : writtenExtents(source)) {
                long pos = e.logical();
                long end = Math.min(e.end(), size);
                while (pos < end) {
                    long n = in.transferTo(pos, end - pos, out.position(pos));
                    if (n <= 0) {
                        throw new IOException(source + " shrank to " + in.size() + " bytes while it was copied");
                    }
                    pos += n;
                }
            }
        }
        try (RandomAccessFile f = new RandomAccessFile(copy.toFile(), "rw")) {
            if (f.length() < size) {
                f.setLength(size); // a trailing hole stays a hole
            }
        }
    }

    /** @return the extents of {@code file} that hold data (delayed allocations flushed, unwritten ones left out) */
    private static List<Extent> writtenExtents(Path file) {
        try (LinuxFile f = LinuxFile.open(file, LinuxFile.Mode.READ)) {
            return f.extents(0, Long.MAX_VALUE, true).stream().filter(e -> !e.unwritten()).toList();
        }
    }

    static boolean isTemporary(Path p) {
        return p.getFileName().toString().indexOf(TMP_MARK) >= 0;
    }

    private static Path tmpFor(Path target) {
        return target.resolveSibling(target.getFileName() + String.valueOf(TMP_MARK)
                + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16));
    }

    private static boolean isZero(byte[] buf, int n) {
        for (int i = 0; i < n; i++) {
            if (buf[i] != 0) {
                return false;
            }
        }
        return true;
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: the volume's repair removes temporaries
        }
    }

    /**
     * Removes a temporary an operation leaves behind when it fails.
     *
     * @return the error to throw: {@code e} itself when it is a CompartException, else {@link #io}
     */
    private static CompartException abandoned(Path tmp, String what, Exception e) {
        deleteQuietly(tmp);
        return e instanceof CompartException ce ? ce : io(what, e);
    }

    static CompartException io(String what, Exception e) {
        String msg = e.getMessage() != null && e.getMessage().contains("No space left")
                ? what + " failed: the pool's filesystem is full (" + e.getMessage() + ")"
                : what + " failed: " + e;
        return new CompartException(ErrorKind.STORAGE, msg, e);
    }
}
