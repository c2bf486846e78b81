package compart.xl.linux;

/**
 * One extent of a file as FIEMAP reports it: {@code length} bytes at file offset {@code logical} are stored at
 * byte {@code physical} of the device.
 *
 * @param logical  offset in the file, in bytes
 * @param physical offset on the device, in bytes (0 when {@link #unknownLocation()})
 * @param length   length in bytes
 * @param flags    the {@code FIEMAP_EXTENT_*} flags
 */
public record Extent(long logical, long physical, long length, int flags) {
    public Extent {
        if (logical < 0 || length <= 0) {
            throw new IllegalArgumentException("bad extent: logical=" + logical + " length=" + length);
        }
    }

    /** @return whether other files (clones, snapshots, deduplicated copies) share this extent's blocks */
    public boolean shared() {
        return (flags & LinuxNative.FIEMAP_EXTENT_SHARED) != 0;
    }

    /** @return whether this is the file's last extent */
    public boolean last() {
        return (flags & LinuxNative.FIEMAP_EXTENT_LAST) != 0;
    }

    /** @return whether the blocks are allocated but unwritten (read as zeros) */
    public boolean unwritten() {
        return (flags & LinuxNative.FIEMAP_EXTENT_UNWRITTEN) != 0;
    }

    /** @return whether the physical location is not known yet (delayed allocation) */
    public boolean unknownLocation() {
        return (flags & (LinuxNative.FIEMAP_EXTENT_UNKNOWN | LinuxNative.FIEMAP_EXTENT_DELALLOC)) != 0;
    }

    /** @return the file offset just past this extent */
    public long end() {
        return logical + length;
    }
}
