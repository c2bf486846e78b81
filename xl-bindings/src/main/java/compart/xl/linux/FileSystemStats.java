package compart.xl.linux;

/**
 * What {@code statfs(2)} says about the filesystem holding a path or open file.
 *
 * @param magic          {@code f_type}, the filesystem's magic number
 * @param blockSize      {@code f_bsize}, the preferred I/O block size
 * @param totalBytes     size of the filesystem
 * @param freeBytes      free bytes, including those reserved for root
 * @param availableBytes free bytes an unprivileged user may use
 */
public record FileSystemStats(long magic, long blockSize, long totalBytes, long freeBytes, long availableBytes) {
    /** @return {@code xfs}, {@code btrfs}, {@code ext4}, {@code tmpfs} … or the magic number in hex */
    public String typeName() {
        return switch ((int) magic) {
            case 0x58465342 -> "xfs";
            case 0x9123683E -> "btrfs";
            case 0xEF53 -> "ext4";
            case 0x01021994 -> "tmpfs";
            case 0x794c7630 -> "overlayfs";
            case 0x6969 -> "nfs";
            case 0x2fc12fc1 -> "zfs";
            case 0x65735546 -> "fuse";
            default -> "0x" + Long.toHexString(magic);
        };
    }

    /** @return used bytes ({@code total - free}) */
    public long usedBytes() {
        return totalBytes - freeBytes;
    }
}
