package compart.xenhost;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Builds the Xen host image from Debian packages, or finds it in the cache.
 *
 * <p>Two cached stages, each named by its {@link CacheKey} (see {@link ImageSpec}):
 * <ol>
 *   <li>{@code base-<key>.tar.zst}: {@code debootstrap --variant=minbase}, then {@code base-setup.sh} in a
 *       chroot installs Xen 4.17, the kernel, qemu-system-xen and busybox-static (about a minute, needs the
 *       mirror);</li>
 *   <li>{@code image-<key>/}: the base plus the dom0 init and a jlinked Java runtime, made into an ext4 disk
 *       ({@code mkfs.ext4 -d}: no loop mount), with Xen, the dom0 kernel and initrd and the test guest beside it
 *       (about 20 s).</li>
 * </ol>
 * A file lock in the cache directory serialises concurrent builds; each stage is built in a scratch directory
 * and renamed into place, so an interrupted build never leaves a half image that looks complete. Older images
 * are deleted when a new one is complete. Needs root (debootstrap, chroot, device nodes).
 */
public final class ImageBuilder {
    private final ImageSpec spec;
    private final Path cache;
    private final Consumer<String> progress;

    /**
     * @param spec     what to build
     * @param cache    the cache directory (created if missing)
     * @param progress receives one line per step
     */
    public ImageBuilder(ImageSpec spec, Path cache, Consumer<String> progress) {
        this.spec = spec;
        this.cache = cache;
        this.progress = progress;
    }

    /** The cache directory the harness uses unless told otherwise: {@code $XDG_CACHE_HOME/compart-xenhost}. */
    public static Path defaultCache(Map<String, String> env, String userHome) {
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(userHome, ".cache");
        return base.resolve("compart-xenhost");
    }

    /** The image of {@link ImageSpec#imageKey()}, built first if the cache does not hold it. */
    public XenHostImage obtain() throws IOException {
        return locked(() -> {
            CacheKey key = spec.imageKey();
            var image = new XenHostImage(cache.resolve("image-" + key), key);
            if (image.isComplete()) {
                progress.accept("image " + key + " is up to date in " + image.dir());
                return image;
            }
            Prerequisites.check(Prerequisites.IMAGE_BUILD_TOOLS).requireMet("build the Xen host image");
            Path base = obtainBase();
            buildImage(base, image);
            prune(image, base);
            return image;
        });
    }

    /**
     * The Debian guest template of {@code guest} for this image's dom0 kernel, built first if the cache does not
     * hold it (see {@link GuestTemplateBuilder}).
     */
    public GuestTemplate obtainGuestTemplate(GuestTemplateSpec guest) throws IOException {
        return locked(() -> {
            Path base = cache.resolve("base-" + spec.baseKey() + ".tar.zst");
            var builder = new GuestTemplateBuilder(guest, cache, progress);
            var template = new GuestTemplate(cache.resolve("guest-template-" + guest.templateKey(spec.baseKey())),
                    guest.templateKey(spec.baseKey()));
            if (!template.isComplete()) {
                Prerequisites.check(Prerequisites.IMAGE_BUILD_TOOLS).requireMet("build the Debian guest template");
                base = obtainBase();
            }
            return builder.obtain(base, spec.baseKey());
        });
    }

    /** Work done while holding the cache's file lock. */
    private interface LockedWork<T> {
        T run() throws IOException;
    }

    private <T> T locked(LockedWork<T> work) throws IOException {
        Files.createDirectories(cache);
        try (FileChannel lockFile = FileChannel.open(cache.resolve("lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE)) {
            FileLock held = lockFile.tryLock();
            if (held == null) {
                progress.accept("another build holds " + cache.resolve("lock") + ": waiting for it");
                held = lockFile.lock();
            }
            try (FileLock lock = held) {
                return work.run();
            }
        }
    }

    private Path obtainBase() throws IOException {
        CacheKey key = spec.baseKey();
        Path base = cache.resolve("base-" + key + ".tar.zst");
        if (Files.isRegularFile(base)) {
            progress.accept("base root filesystem " + key + " is cached: " + base);
            return base;
        }
        long t = System.nanoTime();
        Path work = freshDirectory(cache.resolve("work-base"), cache, progress);
        Path rootfs = work.resolve("rootfs");
        Path log = cache.resolve("logs/base-" + key + ".log");
        Files.deleteIfExists(log);
        progress.accept("debootstrap " + spec.suite() + " (minbase) from " + spec.mirror() + "; log: " + log);
        HostCommand.of(log, "debootstrap", "--variant=minbase", spec.suite(), rootfs.toString(), spec.mirror())
                .run();
        progress.accept("apt-get install in the chroot: " + String.join(" ", spec.packages()));
        Files.write(rootfs.resolve("tmp/base-setup.sh"), ImageSpec.resource(ImageSpec.BASE_SETUP));
        var chroot = new ArrayList<>(List.of("chroot", rootfs.toString(), "sh", "/tmp/base-setup.sh"));
        chroot.addAll(spec.packages());
        try (var mounts = ChrootMounts.mount(rootfs, log)) {
            new HostCommand(chroot, Map.of("SUITE", spec.suite(), "MIRROR", spec.mirror(),
                    "SECURITY", spec.security()), log, Duration.ofMinutes(30)).run();
        }
        Files.delete(rootfs.resolve("tmp/base-setup.sh"));
        progress.accept("packing the base root filesystem: " + base);
        Path partial = cache.resolve(base.getFileName() + ".partial");
        HostCommand.of(log, "tar", "--zstd", "--numeric-owner", "-C", rootfs.toString(), "-cf",
                partial.toString(), ".").run();
        Files.move(partial, base, StandardCopyOption.ATOMIC_MOVE);
        ChrootMounts.deleteTree(work, log);
        progress.accept("base stage: " + secondsSince(t) + " s");
        return base;
    }

    private void buildImage(Path base, XenHostImage image) throws IOException {
        long t = System.nanoTime();
        Path work = freshDirectory(cache.resolve("work-image"), cache, progress);
        Path rootfs = work.resolve("rootfs");
        Path out = work.resolve("image");
        Path log = cache.resolve("logs/image-" + image.key() + ".log");
        Files.deleteIfExists(log);
        Files.createDirectories(rootfs);
        Files.createDirectories(out.resolve("guest"));
        progress.accept("unpacking the base into " + rootfs);
        HostCommand.of(log, "tar", "--zstd", "--numeric-owner", "-C", rootfs.toString(), "-xf", base.toString())
                .run();

        progress.accept("dom0 init, jlinked Java runtime (" + String.join(",", spec.javaModules()) + ")");
        Path init = rootfs.resolve("sbin/compart-dom0-init");
        Files.write(init, ImageSpec.resource(ImageSpec.DOM0_INIT));
        Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(rootfs.resolve("etc/hostname"), "dom0\n");
        // no fstab entry: the kernel mounts the root rw (root=/dev/vda rw), and systemd then waits for no device
        Files.writeString(rootfs.resolve("etc/fstab"), "# root: mounted rw by the kernel (root=/dev/vda rw)\n");
        installSystemdUnits(rootfs);
        HostCommand.of(log, spec.jdk().resolve("bin/jlink").toString(), "--add-modules",
                String.join(",", spec.javaModules()), "--strip-debug", "--no-header-files", "--no-man-pages",
                "--generate-cds-archive", "--output", rootfs.resolve("opt/jre").toString()).run();
        Files.createDirectories(rootfs.resolve("usr/local/bin"));
        Files.createSymbolicLink(rootfs.resolve("usr/local/bin/java"), Path.of("/opt/jre/bin/java"));

        String kernel = kernelVersion(rootfs);
        progress.accept("Xen, kernel " + kernel + ", initrd and the test guest");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(xenGz(rootfs)));
             OutputStream xen = Files.newOutputStream(out.resolve("xen"))) {
            in.transferTo(xen);
        }
        Files.copy(rootfs.resolve("boot/vmlinuz-" + kernel), out.resolve("vmlinuz"));
        Files.copy(rootfs.resolve("boot/initrd.img-" + kernel), out.resolve("initrd.img"));
        Files.copy(rootfs.resolve("boot/vmlinuz-" + kernel), out.resolve("guest/vmlinuz"));
        GuestInitramfs.fromRootfs(rootfs, kernel).writeTo(out.resolve("guest/initrd.gz"));

        long megabytes = treeSize(rootfs) * 13 / 10 / (1 << 20) + 2560; // room for the scenario: package, XFS pool
        progress.accept("ext4 dom0 disk of " + megabytes + " MiB (sparse)");
        Path disk = out.resolve("dom0.img");
        sparseFile(disk, megabytes);
        HostCommand.of(log, "mkfs.ext4", "-q", "-F", "-L", "compart-dom0", "-d", rootfs.toString(),
                disk.toString()).run();

        Files.writeString(out.resolve("manifest.txt"), manifest(rootfs, image.key()));
        Files.move(out, image.dir(), StandardCopyOption.ATOMIC_MOVE);
        Files.writeString(image.dir().resolve(XenHostImage.COMPLETE), image.key() + "\n");
        ChrootMounts.deleteTree(work, log);
        progress.accept("image stage: " + secondsSince(t) + " s; image " + image.key() + " ready in " + image.dir());
    }

    /** Units that would get in the way of the test run: Debian's Xen init scripts (dom0-init.sh starts the
     *  daemons itself), logins on the console (which carries the test protocol), and periodic maintenance. */
    static final List<String> MASKED_UNITS = List.of("xen.service", "xendomains.service", "getty@tty1.service",
            "serial-getty@hvc0.service", "console-getty.service", "apt-daily.timer", "apt-daily-upgrade.timer",
            "e2scrub_all.timer", "e2scrub_reap.service", "fstrim.timer", "dpkg-db-backup.timer");

    /**
     * systemd boots dom0 (as on a real host, so that packages can start services) into multi-user.target, where
     * compart-xenhost.service runs dom0-init.sh. The base's policy-rc.d, which kept daemons from starting inside
     * the build chroot, goes: in the booted host, packages start their services as they would anywhere.
     */
    private static void installSystemdUnits(Path rootfs) throws IOException {
        Path system = rootfs.resolve("etc/systemd/system");
        Files.createDirectories(system.resolve("multi-user.target.wants"));
        Files.write(system.resolve(ImageSpec.XENHOST_UNIT), ImageSpec.resource(ImageSpec.XENHOST_UNIT));
        Files.createSymbolicLink(system.resolve("multi-user.target.wants").resolve(ImageSpec.XENHOST_UNIT),
                Path.of("/etc/systemd/system", ImageSpec.XENHOST_UNIT));
        Files.deleteIfExists(system.resolve("default.target"));
        Files.createSymbolicLink(system.resolve("default.target"), Path.of("/lib/systemd/system/multi-user.target"));
        for (String unit : MASKED_UNITS) {
            Files.deleteIfExists(system.resolve(unit));
            Files.createSymbolicLink(system.resolve(unit), Path.of("/dev/null"));
        }
        Files.deleteIfExists(rootfs.resolve("usr/sbin/policy-rc.d"));
    }

    /** What went into the image, for people: the key inputs and the versions of the packages that matter. */
    private String manifest(Path rootfs, CacheKey key) throws IOException {
        var text = new StringBuilder("image ").append(key).append("\nbase ").append(spec.baseKey())
                .append("\ninputs ").append(String.join(" ", spec.imageInputs().names()))
                .append("\njdk ").append(spec.jdk()).append('\n');
        for (var pkg : DebianPackages.versions(rootfs, List.of("xen-hypervisor-4.17-amd64", "xen-utils-4.17",
                "qemu-system-xen", "linux-image-amd64", "busybox-static")).entrySet()) {
            text.append("package ").append(pkg.getKey()).append(' ').append(pkg.getValue()).append('\n');
        }
        return text.toString();
    }

    private static String kernelVersion(Path rootfs) throws IOException {
        try (Stream<Path> dirs = Files.list(rootfs.resolve("lib/modules"))) {
            List<String> versions = dirs.map(p -> p.getFileName().toString()).sorted().toList();
            if (versions.size() != 1) {
                throw new CompartException(ErrorKind.INVALID_STATE,
                        "expected exactly one kernel in the dom0 root filesystem, found " + versions);
            }
            return versions.getFirst();
        }
    }

    private static Path xenGz(Path rootfs) throws IOException {
        try (Stream<Path> files = Files.list(rootfs.resolve("boot"))) {
            return files.filter(p -> p.getFileName().toString().matches("xen-4\\.17.*-amd64\\.gz")).sorted()
                    .findFirst().orElseThrow(() -> new CompartException(ErrorKind.NOT_FOUND,
                            "no /boot/xen-4.17*-amd64.gz in the dom0 root filesystem: is "
                                    + "xen-hypervisor-4.17-amd64 installed?"));
        }
    }

    /** A new sparse file of {@code megabytes} MiB. */
    static void sparseFile(Path file, long megabytes) throws IOException {
        try (var channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.position(megabytes * (1 << 20) - 1).write(ByteBuffer.wrap(new byte[1]));
        }
    }

    /** Whole seconds since {@code nanoTime}, for the stage times printed while building. */
    static long secondsSince(long nanoTime) {
        return Duration.ofNanos(System.nanoTime() - nanoTime).toSeconds();
    }

    /** Bytes of a tree, each entry rounded up as ext4 would store it (for sizing an image of it). */
    static long treeSize(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            return all.mapToLong(p -> {
                try {
                    return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) ? Files.size(p) + 4096 : 4096;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        }
    }

    /** An empty scratch directory {@code dir}, after deleting what an interrupted build left there. */
    static Path freshDirectory(Path dir, Path cache, Consumer<String> progress) throws IOException {
        if (Files.exists(dir)) {
            progress.accept("removing the leftovers of an interrupted build: " + dir);
            ChrootMounts.deleteTree(dir, cache.resolve("logs/cleanup.log"));
        }
        return Files.createDirectories(dir);
    }

    /** Keeps the current image and base; older ones (other keys) are deleted. */
    private void prune(XenHostImage current, Path currentBase) throws IOException {
        try (Stream<Path> entries = Files.list(cache)) {
            for (Path old : entries.toList()) {
                String name = old.getFileName().toString();
                boolean stale = (name.startsWith("image-") && !old.equals(current.dir()))
                        || (name.startsWith("base-") && !old.equals(currentBase));
                if (stale) {
                    progress.accept("deleting the older cached " + name);
                    ChrootMounts.deleteTree(old, cache.resolve("logs/cleanup.log"));
                }
            }
        }
    }
}
