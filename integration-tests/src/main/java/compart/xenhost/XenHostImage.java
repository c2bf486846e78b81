package compart.xenhost;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A built Xen host image in the cache: a directory {@code image-<key>} holding what QEMU boots and the test
 * guests. Complete once {@link #COMPLETE} exists (written last, after an atomic rename of the directory).
 *
 * @param dir the image directory
 * @param key its cache key
 */
public record XenHostImage(Path dir, CacheKey key) {
    static final String COMPLETE = "complete";

    /** Xen as a plain ELF (QEMU's multiboot loader does not take the gzipped file). */
    public Path xen() {
        return dir.resolve("xen");
    }

    /** The dom0 kernel (Debian's linux-image-amd64). */
    public Path dom0Kernel() {
        return dir.resolve("vmlinuz");
    }

    public Path dom0Initrd() {
        return dir.resolve("initrd.img");
    }

    /** The dom0 root filesystem, ext4; QEMU opens it with {@code snapshot=on} so it is never changed. */
    public Path dom0Disk() {
        return dir.resolve("dom0.img");
    }

    /** The guest kernel (the same Debian kernel: it boots PVH and HVM). */
    public Path guestKernel() {
        return dir.resolve("guest/vmlinuz");
    }

    /** The guest initramfs (see {@link GuestInitramfs}). */
    public Path guestInitrd() {
        return dir.resolve("guest/initrd.gz");
    }

    public boolean isComplete() {
        return Files.isRegularFile(dir.resolve(COMPLETE));
    }
}
