package compart.xl.linux;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Raw layer: libc functions and the kernel structures of {@code <linux/fs.h>}, {@code <linux/fiemap.h>} and
 * {@code <sys/statfs.h>} (x86_64 / aarch64 LP64), written by hand and checked against the real headers by
 * {@code LinuxLayoutProbeTest}, which compiles a C probe with gcc.
 *
 * <p>Every function handle captures {@code errno}: its first argument is a segment of
 * {@link #CAPTURE_LAYOUT}, read with {@link #errno(MemorySegment)} right after a call that returned -1.
 */
final class LinuxNative {
    private LinuxNative() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");

    static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final long ERRNO_OFFSET = CAPTURE_LAYOUT.byteOffset(groupElement("errno"));

    // ---- constants (checked by the probe) ----
    static final int O_RDONLY = 0;
    static final int O_WRONLY = 01;
    static final int O_RDWR = 02;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_TRUNC = 01000;
    static final int O_DIRECTORY = 0200000;
    static final int O_CLOEXEC = 02000000;

    /** {@code _IOW(0x94, 9, int)} */
    static final long FICLONE = 0x40049409L;
    /** {@code _IOW(0x94, 13, struct file_clone_range)} */
    static final long FICLONERANGE = 0x4020940dL;
    /** {@code _IOWR(0x94, 54, struct file_dedupe_range)} */
    static final long FIDEDUPERANGE = 0xc0189436L;
    /** {@code _IOWR('f', 11, struct fiemap)} */
    static final long FS_IOC_FIEMAP = 0xc020660bL;

    static final int FIEMAP_FLAG_SYNC = 0x1;
    static final int FIEMAP_EXTENT_LAST = 0x1;
    static final int FIEMAP_EXTENT_UNKNOWN = 0x2;
    static final int FIEMAP_EXTENT_DELALLOC = 0x4;
    static final int FIEMAP_EXTENT_UNWRITTEN = 0x800;
    static final int FIEMAP_EXTENT_SHARED = 0x2000;

    static final int FILE_DEDUPE_RANGE_SAME = 0;
    static final int FILE_DEDUPE_RANGE_DIFFERS = 1;

    // ---- structures ----
    /** {@snippet lang=c : struct file_clone_range { __s64 src_fd; __u64 src_offset; __u64 src_length; __u64 dest_offset; }; } */
    static final StructLayout FILE_CLONE_RANGE = MemoryLayout.structLayout(
            JAVA_LONG.withName("src_fd"),
            JAVA_LONG.withName("src_offset"),
            JAVA_LONG.withName("src_length"),
            JAVA_LONG.withName("dest_offset")).withName("file_clone_range");

    /** {@snippet lang=c : struct file_dedupe_range_info { __s64 dest_fd; __u64 dest_offset; __u64 bytes_deduped; __s32 status; __u32 reserved; }; } */
    static final StructLayout FILE_DEDUPE_RANGE_INFO = MemoryLayout.structLayout(
            JAVA_LONG.withName("dest_fd"),
            JAVA_LONG.withName("dest_offset"),
            JAVA_LONG.withName("bytes_deduped"),
            JAVA_INT.withName("status"),
            JAVA_INT.withName("reserved")).withName("file_dedupe_range_info");

    /** {@snippet lang=c : struct file_dedupe_range { __u64 src_offset; __u64 src_length; __u16 dest_count; __u16 reserved1; __u32 reserved2; struct file_dedupe_range_info info[]; }; } */
    static final StructLayout FILE_DEDUPE_RANGE = MemoryLayout.structLayout(
            JAVA_LONG.withName("src_offset"),
            JAVA_LONG.withName("src_length"),
            JAVA_SHORT.withName("dest_count"),
            JAVA_SHORT.withName("reserved1"),
            JAVA_INT.withName("reserved2")).withName("file_dedupe_range");

    /** {@snippet lang=c : struct fiemap_extent { __u64 fe_logical; __u64 fe_physical; __u64 fe_length; __u64 fe_reserved64[2]; __u32 fe_flags; __u32 fe_reserved[3]; }; } */
    static final StructLayout FIEMAP_EXTENT = MemoryLayout.structLayout(
            JAVA_LONG.withName("fe_logical"),
            JAVA_LONG.withName("fe_physical"),
            JAVA_LONG.withName("fe_length"),
            MemoryLayout.sequenceLayout(2, JAVA_LONG).withName("fe_reserved64"),
            JAVA_INT.withName("fe_flags"),
            MemoryLayout.sequenceLayout(3, JAVA_INT).withName("fe_reserved")).withName("fiemap_extent");

    /** {@snippet lang=c : struct fiemap { __u64 fm_start; __u64 fm_length; __u32 fm_flags; __u32 fm_mapped_extents; __u32 fm_extent_count; __u32 fm_reserved; struct fiemap_extent fm_extents[]; }; } */
    static final StructLayout FIEMAP = MemoryLayout.structLayout(
            JAVA_LONG.withName("fm_start"),
            JAVA_LONG.withName("fm_length"),
            JAVA_INT.withName("fm_flags"),
            JAVA_INT.withName("fm_mapped_extents"),
            JAVA_INT.withName("fm_extent_count"),
            JAVA_INT.withName("fm_reserved")).withName("fiemap");

    /**
     * glibc's {@code struct statfs} on LP64 Linux.
     * {@snippet lang=c : struct statfs { __fsword_t f_type, f_bsize; fsblkcnt_t f_blocks, f_bfree, f_bavail; fsfilcnt_t f_files, f_ffree; fsid_t f_fsid; __fsword_t f_namelen, f_frsize, f_flags, f_spare[4]; }; }
     */
    static final StructLayout STATFS = MemoryLayout.structLayout(
            JAVA_LONG.withName("f_type"),
            JAVA_LONG.withName("f_bsize"),
            JAVA_LONG.withName("f_blocks"),
            JAVA_LONG.withName("f_bfree"),
            JAVA_LONG.withName("f_bavail"),
            JAVA_LONG.withName("f_files"),
            JAVA_LONG.withName("f_ffree"),
            MemoryLayout.sequenceLayout(2, JAVA_INT).withName("f_fsid"),
            JAVA_LONG.withName("f_namelen"),
            JAVA_LONG.withName("f_frsize"),
            JAVA_LONG.withName("f_flags"),
            MemoryLayout.sequenceLayout(4, JAVA_LONG).withName("f_spare")).withName("statfs");

    static long offset(StructLayout layout, String field) {
        return layout.byteOffset(groupElement(field));
    }

    // ---- functions ----
    /** {@snippet lang=c : int open(const char *pathname, int flags, ... (mode_t mode)); } */
    static final MethodHandle OPEN = function("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    /** {@snippet lang=c : int close(int fd); } */
    static final MethodHandle CLOSE = function("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    /** {@snippet lang=c : int fsync(int fd); } */
    static final MethodHandle FSYNC = function("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    /** {@snippet lang=c : int fallocate(int fd, int mode, off_t offset, off_t len); } */
    static final MethodHandle FALLOCATE = function("fallocate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    /** {@snippet lang=c : int fstatfs(int fd, struct statfs *buf); } */
    static final MethodHandle FSTATFS = function("fstatfs", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    /** {@snippet lang=c : int statfs(const char *path, struct statfs *buf); } */
    static final MethodHandle STATFS_PATH = function("statfs", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    /** {@snippet lang=c : int ioctl(int fd, unsigned long request, ... (void *argp)); } with a pointer argument */
    static final MethodHandle IOCTL_POINTER = function("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    /** {@snippet lang=c : int ioctl(int fd, unsigned long request, ... (int arg)); } with an int argument */
    static final MethodHandle IOCTL_INT = function("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT), Linker.Option.firstVariadicArg(2));

    /** {@snippet lang=c : char *strerror(int errnum); } (no errno capture) */
    private static final MethodHandle STRERROR = LINKER.downcallHandle(LIBC.findOrThrow("strerror"),
            FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private static MethodHandle function(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(LIBC.findOrThrow(name), descriptor, options);
    }

    static MemorySegment newCapture(Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    static int errno(MemorySegment capture) {
        return capture.get(JAVA_INT, ERRNO_OFFSET);
    }

    /** @return {@code "EOPNOTSUPP (Operation not supported)"} for 95 */
    static String describeErrno(int errno) {
        String text;
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            text = s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            text = "error " + errno;
        }
        return errnoName(errno) + " (" + text + ")";
    }

    static String errnoName(int errno) {
        return switch (errno) {
            case 1 -> "EPERM";
            case 2 -> "ENOENT";
            case 5 -> "EIO";
            case 9 -> "EBADF";
            case 12 -> "ENOMEM";
            case 13 -> "EACCES";
            case 16 -> "EBUSY";
            case 17 -> "EEXIST";
            case 18 -> "EXDEV";
            case 20 -> "ENOTDIR";
            case 21 -> "EISDIR";
            case 22 -> "EINVAL";
            case 25 -> "ENOTTY";
            case 26 -> "ETXTBSY";
            case 27 -> "EFBIG";
            case 28 -> "ENOSPC";
            case 30 -> "EROFS";
            case 95 -> "EOPNOTSUPP";
            default -> "errno " + errno;
        };
    }
}
