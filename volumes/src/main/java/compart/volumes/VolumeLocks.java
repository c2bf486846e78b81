package compart.volumes;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.reflink.ImageNames;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Cross-process locks of the volumes of a file-based pool, so that two processes — the daemon and
 * {@code compart-dedup}, or two daemons — never work on the same volume at once.
 *
 * <p>Design. A pool directory has one lock file, {@value #FILE_NAME}, that is never deleted; volume {@code vid}
 * is locked by an exclusive byte-range lock ({@code fcntl} through {@link FileChannel#lock(long, long, boolean)})
 * of one byte at an offset taken from a hash of the vid. One file for the whole pool means no lock file is ever
 * created or removed with a volume, so no process can hold a lock on a file that another just replaced, and the
 * kernel drops the locks of a process that dies, even by {@code kill -9}. Java's file locks belong to the
 * process, not the thread, so each offset also has an in-process lock, and each lock file is opened once per
 * JVM while any of its locks is held (closing any descriptor of it would drop all of this process's locks on
 * it), and closed when none is, so the filesystem can be unmounted. Two vids whose
 * hashes meet (one chance in 2^62) only serialise each other.
 *
 * <p>Thread safety: safe for concurrent use; a thread may take a lock it holds again.
 */
public final class VolumeLocks {
    /** The lock file's name in the pool directory. */
    public static final String FILE_NAME = ".compart-pool.lock";

    private static final ConcurrentHashMap<Path, VolumeLocks> OPEN = new ConcurrentHashMap<>();

    private final Path file;
    private final ConcurrentHashMap<Long, ReentrantLock> inProcess = new ConcurrentHashMap<>();
    /** open while this process holds a lock on the file (guarded by this) */
    private FileChannel channel;
    private int held;

    private VolumeLocks(Path file) {
        this.file = file;
    }

    /** A held lock. */
    @FunctionalInterface
    public interface Held extends AutoCloseable {
        /** Releases the lock. */
        @Override
        void close();
    }

    /**
     * The locks of the pool in {@code poolDir}, creating its lock file when needed.
     *
     * @throws CompartException STORAGE when the lock file cannot be created
     */
    public static VolumeLocks of(Path poolDir) {
        Path f;
        try {
            f = poolDir.toRealPath().resolve(FILE_NAME);
            if (!Files.exists(f)) {
                Files.newByteChannel(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE).close();
            }
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot create the pool lock file in " + poolDir + ": " + e, e);
        }
        return OPEN.computeIfAbsent(f, VolumeLocks::new);
    }

    /** Waits for and takes the lock of volume {@code vid}. */
    public Held lock(String vid) {
        return take(vid, true);
    }

    /** @return the lock of volume {@code vid}, or null when another thread or process holds it */
    public Held tryLock(String vid) {
        return take(vid, false);
    }

    private Held take(String vid, boolean wait) {
        long slot = slot(vid);
        ReentrantLock local = inProcess.computeIfAbsent(slot, s -> new ReentrantLock());
        if (wait) {
            local.lock();
        } else if (!local.tryLock()) {
            return null;
        }
        if (local.getHoldCount() > 1) {
            return local::unlock;
        }
        FileLock fl = null;
        try {
            FileChannel ch = use();
            fl = wait ? ch.lock(slot, 1, false) : ch.tryLock(slot, 1, false);
        } catch (IOException | RuntimeException e) {
            unuse();
            local.unlock();
            throw new CompartException(ErrorKind.STORAGE, "cannot lock volume " + vid + " with " + file + ": " + e, e);
        }
        if (fl == null) {
            unuse();
            local.unlock();
            return null;
        }
        FileLock taken = fl;
        return () -> {
            try {
                taken.release();
            } catch (IOException e) {
                throw new CompartException(ErrorKind.STORAGE, "cannot unlock " + file + ": " + e, e);
            } finally {
                unuse();
                local.unlock();
            }
        };
    }

    private synchronized FileChannel use() throws IOException {
        if (channel == null) {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }
        held++;
        return channel;
    }

    /** Closes the file once this process holds no lock on it (closing earlier would drop them all). */
    private synchronized void unuse() {
        if (--held == 0) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing is locked through it any more
            }
            channel = null;
        }
    }

    /** @return the lock file */
    public Path file() {
        return file;
    }

    /**
     * The pool and volume a file belongs to: the nearest directory above it with a {@value #FILE_NAME}, and the
     * vid its name gives in the file-based layout (the reflink driver's {@link ImageNames}).
     *
     * @return empty for a file of no pool, or whose name is not a volume's
     */
    public static Optional<Owner> ownerOf(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        Optional<String> name = ImageNames.volumeName(abs.getFileName().toString());
        if (name.isEmpty()) {
            return Optional.empty();
        }
        for (Path d = abs.getParent(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve(FILE_NAME))) {
                Path rel = d.relativize(abs.resolveSibling(name.get()));
                return Optional.of(new Owner(d, rel.toString()));
            }
        }
        return Optional.empty();
    }

    /**
     * A volume of a pool.
     *
     * @param poolDir the pool's directory
     * @param vid     the volume id
     */
    public record Owner(Path poolDir, String vid) {
        /** @return the key that orders locks (take several in this order to avoid deadlocks) */
        public String orderKey() {
            return poolDir.toAbsolutePath().normalize() + "\u0000" + Long.toHexString(slot(vid));
        }
    }

    static long slot(String vid) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(vid.getBytes(StandardCharsets.UTF_8));
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (d[i] & 0xFF);
            }
            return v & 0x3FFF_FFFF_FFFF_FFFFL;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always present", e);
        }
    }
}
