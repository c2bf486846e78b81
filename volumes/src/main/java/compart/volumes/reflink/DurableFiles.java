package compart.volumes.reflink;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.xl.linux.LinuxFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * File operations that are atomic and durable: new content is built in a temporary file next to its target
 * ({@code target~XXXX}), fsynced, renamed over the target, and the directory fsynced. After a crash a target is
 * either old or new, never partial; temporaries left behind are removed by the volume's repair.
 */
final class DurableFiles {
    /** Temporary files carry this mark in their name. */
    static final char TMP_MARK = '~';

    private final CrashPoints crash;

    DurableFiles(CrashPoints crash) {
        this.crash = crash;
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

    /** Atomically replaces {@code target} by a reflink clone of {@code source} (grown to {@code minSize}). */
    void cloneTo(Path source, Path target, long minSize) {
        Path tmp = tmpFor(target);
        try {
            LinuxFile.cloneFile(source, tmp);
            crash.passed("clone " + source.getFileName() + " -> " + tmp.getFileName());
            try (RandomAccessFile f = new RandomAccessFile(tmp.toFile(), "rw")) {
                if (f.length() < minSize) {
                    f.setLength(minSize);
                }
                f.getFD().sync();
            }
            crash.passed("fsync " + tmp.getFileName());
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp);
            if (e instanceof CompartException ce) {
                throw ce;
            }
            throw io("clone " + source + " to " + target, e);
        }
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
            deleteQuietly(tmp);
            if (e instanceof CompartException ce) {
                throw ce;
            }
            throw io("write " + target, e);
        }
        try (RandomAccessFile f = new RandomAccessFile(tmp.toFile(), "rw")) {
            f.setLength(size); // a trailing run of zeros stays a hole
            f.getFD().sync();
            crash.passed("fsync " + tmp.getFileName());
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp);
            if (e instanceof CompartException ce) {
                throw ce;
            }
            throw io("write " + target, e);
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
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return;
        } catch (IOException e) {
            throw io("create directory " + dir, e);
        }
        LinuxFile.fsyncDirectory(dir.getParent());
        crash.passed("mkdir " + dir.getFileName());
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

    static CompartException io(String what, Exception e) {
        String msg = e.getMessage() != null && e.getMessage().contains("No space left")
                ? what + " failed: the pool's filesystem is full (" + e.getMessage() + ")"
                : what + " failed: " + e;
        return new CompartException(ErrorKind.STORAGE, msg, e);
    }
}
