package compart.xenhost;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A built Debian 12 guest template in the cache: a directory {@code guest-template-<key>} holding what a qube of
 * Qubes' layout boots (the files of a {@code vm-kernels/NAME} directory, and the template's root volume). Complete
 * once {@link XenHostImage#COMPLETE} exists (written last, after an atomic rename of the directory).
 *
 * @param dir the template directory
 * @param key its cache key
 */
public record GuestTemplate(Path dir, CacheKey key) {
    /** The files staged for dom0, in the order of a Qubes kernel directory, then the root volume. */
    public static final String[] FILES = {"vmlinuz", "initramfs", "modules.img", "root.img", "manifest.txt"};

    /** dom0's Debian kernel: it boots PVH. */
    public Path kernel() {
        return dir.resolve("vmlinuz");
    }

    /** busybox + the root disk's modules + {@code qube-root-init.sh}: mounts xvda as root, starts systemd. */
    public Path initramfs() {
        return dir.resolve("initramfs");
    }

    /** ext4 holding {@code <kernel version>/}: the modules a qube gets as its xvdd, as Qubes' modules.img. */
    public Path modulesImage() {
        return dir.resolve("modules.img");
    }

    /** The template's root volume: raw ext4 (sparse), Debian 12 with Qubes' guest software. */
    public Path rootImage() {
        return dir.resolve("root.img");
    }

    public boolean isComplete() {
        return Files.isRegularFile(dir.resolve(XenHostImage.COMPLETE));
    }
}
