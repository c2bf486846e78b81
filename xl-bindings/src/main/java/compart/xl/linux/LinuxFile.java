package compart.xl.linux;

import static compart.xl.linux.LinuxNative.*;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An open Linux file descriptor with the block-sharing ioctls the volumes need: {@code FICLONE} (whole-file
 * reflink), {@code FICLONERANGE}, {@code FIDEDUPERANGE} (the kernel compares both ranges byte by byte before it
 * shares them, so data never changes) and {@code FS_IOC_FIEMAP} (which extents are shared), plus {@code fsync},
 * {@code fallocate} and {@code fstatfs}.
 *
 * <p>Every failure is a {@link CompartException} of kind {@link ErrorKind#STORAGE} whose message names the call,
 * the file(s), the errno and, for reflink, the filesystem type. Each call uses its own confined {@link Arena}.
 *
 * <p>Thread safety: calls on one open file may run on several threads at once (the kernel serialises what it
 * must); {@link #close()} must not race with other calls.
 */
public final class LinuxFile implements AutoCloseable {
    /** How to open a file. */
    public enum Mode {
        /** {@code O_RDONLY}: an existing file, read only (enough for FIEMAP and as a clone or dedupe source). */
        READ(O_RDONLY),
        /** {@code O_RDWR}: an existing file. */
        READ_WRITE(O_RDWR),
        /** {@code O_RDWR|O_CREAT|O_EXCL}: a new file, mode 0600; fails if the path exists. */
        CREATE_NEW(O_RDWR | O_CREAT | O_EXCL);

        private final int flags;

        Mode(int flags) {
            this.flags = flags | O_CLOEXEC;
        }
    }

    private static final int FIEMAP_BATCH = 256;

    private final Path path;
    private final int fd;
    private volatile boolean closed;

    private LinuxFile(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /**
     * Opens {@code path}.
     *
     * @throws CompartException STORAGE (NOT_FOUND if it does not exist, ALREADY_EXISTS for {@link Mode#CREATE_NEW})
     */
    public static LinuxFile open(Path path, Mode mode) {
        Objects.requireNonNull(mode, "mode");
        int fd = openFd(path, mode.flags, "open " + mode);
        return new LinuxFile(path, fd);
    }

    /** Makes the entries of directory {@code dir} durable ({@code open(O_DIRECTORY)} + {@code fsync}). */
    public static void fsyncDirectory(Path dir) {
        int fd = openFd(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, "open directory");
        try (LinuxFile d = new LinuxFile(dir, fd)) {
            d.fsync();
        }
    }

    /** @return what {@code statfs(2)} says about the filesystem holding {@code path} */
    public static FileSystemStats fileSystem(Path path) {
        return ffm("statfs", (arena, capture) -> {
            MemorySegment buf = arena.allocate(STATFS);
            int rc = (int) STATFS_PATH.invokeExact(capture, arena.allocateFrom(path.toString()), buf);
            if (rc != 0) {
                throw failure(errno(capture), "statfs(" + path + ")", "");
            }
            return stats(buf);
        });
    }

    /**
     * Creates {@code destination} (which must not exist) as a reflink clone of {@code source}: O(1) in the size
     * of the data, sharing every block. Neither file is fsynced.
     *
     * @throws CompartException STORAGE when the filesystem cannot reflink (the destination is then removed)
     */
    public static void cloneFile(Path source, Path destination) {
        try (LinuxFile src = open(source, Mode.READ)) {
            boolean done = false;
            try (LinuxFile dst = open(destination, Mode.CREATE_NEW)) {
                dst.cloneFrom(src);
                done = true;
            } finally {
                if (!done) {
                    try {
                        Files.deleteIfExists(destination);
                    } catch (IOException ignored) {
                        // the clone error is the one to report
                    }
                }
            }
        }
    }

    /** @return the path this file was opened with */
    public Path path() {
        return path;
    }

    /**
     * {@code FICLONE}: makes this file a reflink copy of all of {@code source} (same filesystem).
     * {@snippet lang=c : int ioctl(int dest_fd, FICLONE, int src_fd); }
     */
    public void cloneFrom(LinuxFile source) {
        checkOpen();
        source.checkOpen();
        ffm("FICLONE", (arena, capture) -> {
            int rc = (int) IOCTL_INT.invokeExact(capture, fd, FICLONE, source.fd);
            if (rc != 0) {
                throw reflinkFailure(errno(capture), "FICLONE from " + source.path + " to " + path);
            }
            return null;
        });
    }

    /**
     * {@code FICLONERANGE}: shares {@code length} bytes of {@code source} at {@code sourceOffset} into this file at
     * {@code destinationOffset}; offsets and length aligned to the filesystem block size (length may reach EOF).
     */
    public void cloneRangeFrom(LinuxFile source, long sourceOffset, long length, long destinationOffset) {
        checkOpen();
        source.checkOpen();
        ffm("FICLONERANGE", (arena, capture) -> {
            MemorySegment arg = arena.allocate(FILE_CLONE_RANGE);
            arg.set(JAVA_LONG, offset(FILE_CLONE_RANGE, "src_fd"), source.fd);
            arg.set(JAVA_LONG, offset(FILE_CLONE_RANGE, "src_offset"), sourceOffset);
            arg.set(JAVA_LONG, offset(FILE_CLONE_RANGE, "src_length"), length);
            arg.set(JAVA_LONG, offset(FILE_CLONE_RANGE, "dest_offset"), destinationOffset);
            int rc = (int) IOCTL_POINTER.invokeExact(capture, fd, FICLONERANGE, arg);
            if (rc != 0) {
                throw reflinkFailure(errno(capture), "FICLONERANGE of " + length + " bytes from " + source.path
                        + "@" + sourceOffset + " to " + path + "@" + destinationOffset);
            }
            return null;
        });
    }

    /**
     * {@code FIDEDUPERANGE}: for each target whose {@code length} bytes equal this file's bytes at {@code offset},
     * makes the target share this file's blocks. The kernel locks and compares the ranges, so contents never
     * change. Per-target failures are returned, not thrown.
     *
     * @param offset  source offset, block aligned
     * @param length  bytes to compare and share (the kernel may do less; see each outcome)
     * @param targets at most 65535 destinations
     * @return one outcome per target, in order
     * @throws CompartException STORAGE when the call as a whole fails (bad alignment, not supported)
     */
    public List<DedupeOutcome> dedupeTo(long offset, long length, List<DedupeTarget> targets) {
        checkOpen();
        if (targets.isEmpty() || targets.size() > 0xFFFF) {
            throw new IllegalArgumentException("FIDEDUPERANGE takes 1..65535 targets, got " + targets.size());
        }
        long head = FILE_DEDUPE_RANGE.byteSize();
        long infoSize = FILE_DEDUPE_RANGE_INFO.byteSize();
        return ffm("FIDEDUPERANGE", (arena, capture) -> {
            MemorySegment arg = arena.allocate(head + infoSize * targets.size(), 8);
            arg.set(JAVA_LONG, offset(FILE_DEDUPE_RANGE, "src_offset"), offset);
            arg.set(JAVA_LONG, offset(FILE_DEDUPE_RANGE, "src_length"), length);
            arg.set(JAVA_SHORT, offset(FILE_DEDUPE_RANGE, "dest_count"), (short) targets.size());
            for (int i = 0; i < targets.size(); i++) {
                DedupeTarget t = targets.get(i);
                t.file().checkOpen();
                long base = head + infoSize * i;
                arg.set(JAVA_LONG, base + offset(FILE_DEDUPE_RANGE_INFO, "dest_fd"), t.file().fd);
                arg.set(JAVA_LONG, base + offset(FILE_DEDUPE_RANGE_INFO, "dest_offset"), t.offset());
            }
            int rc = (int) IOCTL_POINTER.invokeExact(capture, fd, FIDEDUPERANGE, arg);
            if (rc != 0) {
                throw reflinkFailure(errno(capture), "FIDEDUPERANGE of " + length + " bytes from " + path + "@"
                        + offset + " to " + targets.size() + " target(s) starting with " + targets.getFirst().file().path);
            }
            List<DedupeOutcome> outcomes = new ArrayList<>(targets.size());
            for (int i = 0; i < targets.size(); i++) {
                long base = head + infoSize * i;
                int status = arg.get(JAVA_INT, base + offset(FILE_DEDUPE_RANGE_INFO, "status"));
                long bytes = arg.get(JAVA_LONG, base + offset(FILE_DEDUPE_RANGE_INFO, "bytes_deduped"));
                outcomes.add(switch (status) {
                    case FILE_DEDUPE_RANGE_SAME -> new DedupeOutcome(DedupeOutcome.Status.SAME, bytes, 0);
                    case FILE_DEDUPE_RANGE_DIFFERS -> new DedupeOutcome(DedupeOutcome.Status.DIFFERS, 0, 0);
                    default -> new DedupeOutcome(DedupeOutcome.Status.ERROR, 0, -status);
                });
            }
            return outcomes;
        });
    }

    /** @return every extent of the whole file ({@code FS_IOC_FIEMAP} without sync) */
    public List<Extent> extents() {
        return extents(0, Long.MAX_VALUE, false);
    }

    /**
     * {@code FS_IOC_FIEMAP} over {@code [start, start+length)}, repeated until the last extent.
     *
     * @param sync whether to flush delayed allocations first ({@code FIEMAP_FLAG_SYNC}), so physical locations
     *             of freshly written data are known
     */
    public List<Extent> extents(long start, long length, boolean sync) {
        checkOpen();
        long end = length == Long.MAX_VALUE ? Long.MAX_VALUE : start + length;
        return ffm("FIEMAP", (arena, capture) -> {
            List<Extent> result = new ArrayList<>();
            long next = start;
            long extentSize = FIEMAP_EXTENT.byteSize();
            MemorySegment buf = arena.allocate(FIEMAP.byteSize() + extentSize * FIEMAP_BATCH, 8);
            long base = FIEMAP.byteSize();
            while (next < end) {
                buf.fill((byte) 0);
                buf.set(JAVA_LONG, offset(FIEMAP, "fm_start"), next);
                buf.set(JAVA_LONG, offset(FIEMAP, "fm_length"), end == Long.MAX_VALUE ? -1L : end - next);
                buf.set(JAVA_INT, offset(FIEMAP, "fm_flags"), sync ? FIEMAP_FLAG_SYNC : 0);
                buf.set(JAVA_INT, offset(FIEMAP, "fm_extent_count"), FIEMAP_BATCH);
                int rc = (int) IOCTL_POINTER.invokeExact(capture, fd, FS_IOC_FIEMAP, buf);
                if (rc != 0) {
                    throw failure(errno(capture), "FIEMAP of " + path, "");
                }
                int mapped = buf.get(JAVA_INT, offset(FIEMAP, "fm_mapped_extents"));
                if (mapped == 0) {
                    break;
                }
                boolean last = false;
                for (int i = 0; i < mapped; i++) {
                    long e = base + extentSize * i;
                    Extent extent = new Extent(
                            buf.get(JAVA_LONG, e + offset(FIEMAP_EXTENT, "fe_logical")),
                            buf.get(JAVA_LONG, e + offset(FIEMAP_EXTENT, "fe_physical")),
                            buf.get(JAVA_LONG, e + offset(FIEMAP_EXTENT, "fe_length")),
                            buf.get(JAVA_INT, e + offset(FIEMAP_EXTENT, "fe_flags")));
                    result.add(extent);
                    next = extent.end();
                    last |= extent.last();
                }
                if (last) {
                    break;
                }
            }
            return result;
        });
    }

    /** {@code fsync(2)}: makes the file's data and metadata durable. */
    public void fsync() {
        checkOpen();
        ffm("fsync", (arena, capture) -> {
            int rc = (int) FSYNC.invokeExact(capture, fd);
            if (rc != 0) {
                throw failure(errno(capture), "fsync(" + path + ")", "");
            }
            return null;
        });
    }

    /** {@code fallocate(fd, 0, offset, length)}: reserves blocks (and grows the file if needed). */
    public void allocate(long offset, long length) {
        checkOpen();
        ffm("fallocate", (arena, capture) -> {
            int rc = (int) FALLOCATE.invokeExact(capture, fd, 0, offset, length);
            if (rc != 0) {
                throw failure(errno(capture), "fallocate(" + path + ", " + offset + ", " + length + ")", "");
            }
            return null;
        });
    }

    /** @return what {@code fstatfs(2)} says about this file's filesystem */
    public FileSystemStats fileSystem() {
        checkOpen();
        return ffm("fstatfs", (arena, capture) -> {
            MemorySegment buf = arena.allocate(STATFS);
            int rc = (int) FSTATFS.invokeExact(capture, fd, buf);
            if (rc != 0) {
                throw failure(errno(capture), "fstatfs(" + path + ")", "");
            }
            return stats(buf);
        });
    }

    /** Closes the descriptor; later calls fail. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ffm("close", (arena, capture) -> {
            int rc = (int) CLOSE.invokeExact(capture, fd);
            if (rc != 0) {
                throw new CompartException(ErrorKind.STORAGE, "close(" + path + ") failed");
            }
            return null;
        });
    }

    @Override
    public String toString() {
        return "LinuxFile[" + path + (closed ? ", closed]" : ", fd " + fd + "]");
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
    }

    private static int openFd(Path path, int flags, String what) {
        return ffm("open", (arena, capture) -> {
            int fd = (int) OPEN.invokeExact(capture, arena.allocateFrom(path.toString()), flags, 0600);
            if (fd < 0) {
                int errno = errno(capture);
                ErrorKind kind = switch (errno) {
                    case 2 -> ErrorKind.NOT_FOUND;
                    case 17 -> ErrorKind.ALREADY_EXISTS;
                    case 13, 1 -> ErrorKind.PERMISSION_DENIED;
                    default -> ErrorKind.STORAGE;
                };
                throw new CompartException(kind, what + " of " + path + " failed: " + describeErrno(errno));
            }
            return fd;
        });
    }

    /** A native call's body: allocates from {@code arena}, passes {@code capture} to calls that capture errno. */
    private interface FfmCall<T> {
        T run(Arena arena, MemorySegment capture) throws Throwable;
    }

    /**
     * Runs {@code body} with a confined arena and an errno capture. Its CompartExceptions pass through; any other
     * throwable becomes a STORAGE error saying {@code call} could not be called through FFM.
     */
    private static <T> T ffm(String call, FfmCall<T> body) {
        try (Arena arena = Arena.ofConfined()) {
            return body.run(arena, newCapture(arena));
        } catch (CompartException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(call, t);
        }
    }

    private static FileSystemStats stats(MemorySegment buf) {
        long frsize = buf.get(JAVA_LONG, offset(STATFS, "f_frsize"));
        long bsize = buf.get(JAVA_LONG, offset(STATFS, "f_bsize"));
        long unit = frsize > 0 ? frsize : bsize;
        return new FileSystemStats(
                buf.get(JAVA_LONG, offset(STATFS, "f_type")),
                bsize,
                unit * buf.get(JAVA_LONG, offset(STATFS, "f_blocks")),
                unit * buf.get(JAVA_LONG, offset(STATFS, "f_bfree")),
                unit * buf.get(JAVA_LONG, offset(STATFS, "f_bavail")));
    }

    private CompartException reflinkFailure(int errno, String call) {
        String hint = switch (errno) {
            case 22 -> ": offsets or length not aligned to the filesystem block size, or the filesystem of " + path
                    + " cannot share blocks";
            case 95, 25 -> {
                String fs;
                try {
                    fs = fileSystem().typeName();
                } catch (RuntimeException e) {
                    fs = "unknown";
                }
                yield ": the filesystem of " + path + " (" + fs + ") does not support reflink/dedupe here;"
                        + " use XFS made with 'mkfs.xfs -m reflink=1', or btrfs";
            }
            case 18 -> ": source and destination are on different filesystems; reflink works within one";
            case 9 -> ": the destination must be open for writing";
            case 28 -> ": the filesystem is full";
            default -> "";
        };
        return failure(errno, call, hint);
    }

    private static CompartException failure(int errno, String call, String hint) {
        return new CompartException(ErrorKind.STORAGE, call + " failed: " + describeErrno(errno) + hint);
    }

    private static CompartException unexpected(String call, Throwable t) {
        return new CompartException(ErrorKind.STORAGE, call + " could not be called through FFM: " + t, t);
    }
}
