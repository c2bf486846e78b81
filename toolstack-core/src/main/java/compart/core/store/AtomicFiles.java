package compart.core.store;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Crash-safe replacement of one file: the new content goes to a temporary file in the same directory, is
 * fsync'ed, the current file is kept as {@code NAME.bak} (a hard link, so the name never disappears), and the
 * temporary file is renamed over the current one; then the directory is fsync'ed. A reader after a crash at any
 * point sees either the old or the new content under NAME, and the previous one under {@code NAME.bak}.
 */
final class AtomicFiles {
    /** Suffix of the backup kept beside each file. */
    static final String BACKUP = ".bak";
    /** Prefix of temporary files (left-overs are removed at load). */
    static final String TEMP = ".tmp-";

    /** Test hook: a crash point, called with the step name; throws to simulate the process dying there. */
    interface CrashPoint {
        void reached(String step);
    }

    static CrashPoint crashPoint = step -> { };

    private AtomicFiles() {
    }

    /** Mode of state files, as the unit's umask gives them: owner and group (qubes) read and write. */
    static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-rw----");
    /** Mode of state directories: owner and group only. */
    static final Set<PosixFilePermission> DIRECTORY_MODE = PosixFilePermissions.fromString("rwxrwx---");

    static void write(Path file, byte[] content) {
        Path dir = file.getParent();
        Path tmp = dir.resolve(TEMP + file.getFileName() + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            try (var ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(FILE_MODE))) {
                Files.setPosixFilePermissions(tmp, FILE_MODE); // the umask took bits from the mode asked at create
                var buf = ByteBuffer.wrap(content);
                crashPoint.reached("temp-created");
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            crashPoint.reached("temp-synced");
            if (Files.exists(file)) {
                Path bak = dir.resolve(file.getFileName() + BACKUP);
                Files.deleteIfExists(bak);
                crashPoint.reached("backup-removed");
                try {
                    Files.createLink(bak, file);
                } catch (UnsupportedOperationException | IOException e) {
                    Files.copy(file, bak, StandardCopyOption.REPLACE_EXISTING);
                }
                crashPoint.reached("backup-made");
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new CompartException(ErrorKind.STORAGE, "the filesystem of " + dir
                        + " cannot rename atomically; put the state directory on a local filesystem", e);
            }
            crashPoint.reached("renamed");
            syncDirectory(dir);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the left-over is removed at the next load
            }
            throw new CompartException(ErrorKind.STORAGE, "could not write " + file + ": " + e.getMessage()
                    + " (check free space and permissions of " + dir + ")", e);
        }
    }

    static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
            crashPoint.reached("deleted");
            Files.deleteIfExists(file.resolveSibling(file.getFileName() + BACKUP));
            syncDirectory(file.getParent());
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "could not delete " + file + ": " + e.getMessage(), e);
        }
    }

    static void syncDirectory(Path dir) throws IOException {
        try (var ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some filesystems refuse fsync on a directory; the rename is then as durable as they make it
            if (!(e.getMessage() != null && e.getMessage().contains("Is a directory"))) {
                throw e;
            }
        }
    }
}
