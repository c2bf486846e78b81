package compart.xenhost;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Builds the Debian 12 guest template with Qubes' guest software, or finds it in the cache; the same pattern as
 * {@link ImageBuilder} (whose cache lock is held while this runs), in two cached stages:
 * <ol>
 *   <li>{@code guest-base-<key>.tar.zst}: {@code debootstrap --variant=minbase}, then {@code guest-setup.sh} in a
 *       chroot installs the guest's runtime and the build dependencies;</li>
 *   <li>{@code guest-template-<key>/}: the upstream tarballs (sha256 checked) compiled and installed in the
 *       guest's chroot on the host by {@code guest-build.sh} (not in dom0: TCG is 10-30x slower), made into
 *       {@code root.img} (ext4, {@code mkfs.ext4 -d}); beside it dom0's kernel, {@code modules.img} of its
 *       modules and our initramfs ({@code qube-root-init.sh}).</li>
 * </ol>
 * Each stage is built in a scratch directory and renamed into place; each prints its time.
 */
final class GuestTemplateBuilder {
    /** dom0-kernel modules the initramfs loads to mount the root disk (relative to lib/modules/KVER/kernel). */
    static final List<String> ROOT_DISK_MODULES = List.of("drivers/block/xen-blkfront.ko", "lib/crc16.ko",
            "crypto/crc32c_generic.ko", "fs/mbcache.ko", "fs/jbd2/jbd2.ko", "fs/ext4/ext4.ko");

    private final GuestTemplateSpec spec;
    private final Path cache;
    private final Consumer<String> progress;

    GuestTemplateBuilder(GuestTemplateSpec spec, Path cache, Consumer<String> progress) {
        this.spec = spec;
        this.cache = cache;
        this.progress = progress;
    }

    /** The template for a dom0 base ({@code dom0Base}, with key {@code dom0Key}); the caller holds the lock. */
    GuestTemplate obtain(Path dom0Base, CacheKey dom0Key) throws IOException {
        CacheKey key = spec.templateKey(dom0Key);
        var template = new GuestTemplate(cache.resolve("guest-template-" + key), key);
        if (template.isComplete()) {
            progress.accept("guest template " + key + " is up to date in " + template.dir());
            return template;
        }
        long t = System.nanoTime();
        spec.verifySources();
        progress.accept("Qubes guest sources: " + spec.sourceList().size() + " tarballs match the sha256 of "
                + spec.sources().resolve("SOURCES.tsv") + " (" + ImageBuilder.secondsSince(t) + " s)");
        Path base = obtainBase();
        build(base, dom0Base, template);
        prune(template, base);
        return template;
    }

    private Path obtainBase() throws IOException {
        CacheKey key = spec.baseKey();
        Path base = cache.resolve("guest-base-" + key + ".tar.zst");
        if (Files.isRegularFile(base)) {
            progress.accept("guest base root filesystem " + key + " is cached: " + base);
            return base;
        }
        long t = System.nanoTime();
        Path work = ImageBuilder.freshDirectory(cache.resolve("work-guest-base"), cache, progress);
        Path rootfs = work.resolve("rootfs");
        Path log = cache.resolve("logs/guest-base-" + key + ".log");
        Files.deleteIfExists(log);
        progress.accept("guest: debootstrap " + spec.suite() + " (minbase) from " + spec.mirror() + "; log: " + log);
        HostCommand.of(log, "debootstrap", "--variant=minbase", spec.suite(), rootfs.toString(), spec.mirror())
                .run();
        progress.accept("guest: debootstrap done (" + ImageBuilder.secondsSince(t) + " s); apt-get install: "
                + String.join(" ", spec.packages()));
        long apt = System.nanoTime();
        Path script = rootfs.resolve("tmp/guest-setup.sh");
        Files.write(script, ImageSpec.resource(GuestTemplateSpec.SETUP));
        var chroot = new ArrayList<>(List.of("chroot", rootfs.toString(), "sh", "/tmp/guest-setup.sh"));
        chroot.addAll(spec.packages());
        try (var mounts = ChrootMounts.mount(rootfs, log)) {
            new HostCommand(chroot, Map.of("SUITE", spec.suite(), "MIRROR", spec.mirror(),
                    "SECURITY", spec.security()), log, Duration.ofMinutes(30)).run();
        }
        Files.delete(script);
        progress.accept("guest: packages installed (" + ImageBuilder.secondsSince(apt) + " s); packing " + base);
        Path partial = cache.resolve(base.getFileName() + ".partial");
        HostCommand.of(log, "tar", "--zstd", "--numeric-owner", "-C", rootfs.toString(), "-cf",
                partial.toString(), ".").run();
        Files.move(partial, base, StandardCopyOption.ATOMIC_MOVE);
        ChrootMounts.deleteTree(work, log);
        progress.accept("guest base stage: " + ImageBuilder.secondsSince(t) + " s");
        return base;
    }

    private void build(Path base, Path dom0Base, GuestTemplate template) throws IOException {
        long t = System.nanoTime();
        Path work = ImageBuilder.freshDirectory(cache.resolve("work-guest-template"), cache, progress);
        Path rootfs = Files.createDirectories(work.resolve("rootfs"));
        Path dom0 = Files.createDirectories(work.resolve("dom0"));
        Path out = Files.createDirectories(work.resolve("template"));
        Path log = cache.resolve("logs/guest-template-" + template.key() + ".log");
        Files.deleteIfExists(log);
        HostCommand.of(log, "tar", "--zstd", "--numeric-owner", "-C", rootfs.toString(), "-xf", base.toString())
                .run();
        HostCommand.of(log, "tar", "--zstd", "--numeric-owner", "-C", dom0.toString(), "-xf", dom0Base.toString(),
                "--wildcards", "./boot/vmlinuz-*", "./usr/lib/modules").run();
        progress.accept("guest: unpacked the guest base and dom0's kernel (" + ImageBuilder.secondsSince(t) + " s)");

        long compile = System.nanoTime();
        Path src = Files.createDirectories(rootfs.resolve("usr/src/qubes"));
        for (GuestTemplateSpec.Source source : spec.sourceList()) {
            Files.copy(spec.sources().resolve(source.file()), src.resolve(source.file()));
        }
        install(rootfs, GuestTemplateSpec.BUILD, "tmp/guest-build.sh", "rwxr-xr-x");
        install(rootfs, GuestTemplateSpec.REPORT_SCRIPT, "usr/lib/compart/qube-report.sh", "rwxr-xr-x");
        install(rootfs, GuestTemplateSpec.REPORT_UNIT, "etc/systemd/system/compart-qube-report.service", "rw-r--r--");
        install(rootfs, GuestTemplateSpec.FSTAB, "etc/fstab", "rw-r--r--");
        Files.createDirectories(rootfs.resolve("rw"));
        progress.accept("guest: compiling Qubes' guest software in the guest's chroot; log: " + log);
        try (var mounts = ChrootMounts.mount(rootfs, log)) {
            new HostCommand(List.of("chroot", rootfs.toString(), "bash", "/tmp/guest-build.sh"), Map.of(), log,
                    Duration.ofMinutes(20)).run();
        }
        Path times = rootfs.resolve("tmp/guest-build-times.txt");
        progress.accept("guest: built and installed in " + ImageBuilder.secondsSince(compile) + " s (seconds each: "
                + Files.readString(times, StandardCharsets.UTF_8).strip().replace('\n', ',') + ")");
        Files.delete(times);
        Files.delete(rootfs.resolve("tmp/guest-build.sh"));
        // the booted guest starts its services as any Debian system does
        Files.deleteIfExists(rootfs.resolve("usr/sbin/policy-rc.d"));
        Files.writeString(rootfs.resolve("etc/hostname"), "localhost\n");

        long images = System.nanoTime();
        String kernel = kernelVersion(dom0.resolve("usr/lib/modules"));
        Files.copy(dom0.resolve("boot/vmlinuz-" + kernel), out.resolve("vmlinuz"));
        Path kernelModules = dom0.resolve("usr/lib/modules").resolve(kernel);
        new GuestInitramfs(rootfs.resolve("bin/busybox"),
                ROOT_DISK_MODULES.stream().map(m -> kernelModules.resolve("kernel").resolve(m)).toList(),
                ImageSpec.resource(GuestTemplateSpec.INIT)).writeTo(out.resolve("initramfs"));
        Files.deleteIfExists(kernelModules.resolve("build"));
        Files.deleteIfExists(kernelModules.resolve("source"));
        ext4(log, dom0.resolve("usr/lib/modules"), out.resolve("modules.img"), "modules");
        ext4(log, rootfs, out.resolve("root.img"), "root");
        Files.writeString(out.resolve("manifest.txt"), manifest(rootfs, template.key(), kernel));
        progress.accept("guest: root.img " + (Files.size(out.resolve("root.img")) >> 20) + " MiB, modules.img "
                + (Files.size(out.resolve("modules.img")) >> 20) + " MiB, initramfs, kernel " + kernel + " ("
                + ImageBuilder.secondsSince(images) + " s)");

        Files.move(out, template.dir(), StandardCopyOption.ATOMIC_MOVE);
        Files.writeString(template.dir().resolve(XenHostImage.COMPLETE), template.key() + "\n");
        ChrootMounts.deleteTree(work, log);
        progress.accept("guest template stage: " + ImageBuilder.secondsSince(t) + " s; ready in " + template.dir());
    }

    private static void install(Path rootfs, String resource, String target, String mode) throws IOException {
        Path file = rootfs.resolve(target);
        Files.createDirectories(file.getParent());
        Files.write(file, ImageSpec.resource(resource));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    }

    /** A sparse ext4 image of {@code tree} with room to spare (a qube writes into its root snapshot). */
    private static void ext4(Path log, Path tree, Path image, String label) throws IOException {
        long megabytes = ImageBuilder.treeSize(tree) * 5 / 4 / (1 << 20) + 256;
        ImageBuilder.sparseFile(image, megabytes);
        HostCommand.of(log, "mkfs.ext4", "-q", "-F", "-b", "4096", "-L", label, "-d", tree.toString(),
                image.toString()).run();
    }

    private String manifest(Path rootfs, CacheKey key, String kernel) throws IOException {
        var text = new StringBuilder("guest template ").append(key).append("\nguest base ").append(spec.baseKey())
                .append("\nkernel ").append(kernel).append('\n');
        for (GuestTemplateSpec.Source source : spec.sourceList()) {
            text.append("upstream ").append(source.repository()).append(' ').append(source.tag()).append(' ')
                    .append(source.sha256()).append('\n');
        }
        for (var pkg : DebianPackages.versions(rootfs, List.of("systemd", "udev", "libxenmisc4.17", "xen-utils-4.17",
                "iproute2")).entrySet()) {
            text.append("package ").append(pkg.getKey()).append(' ').append(pkg.getValue()).append('\n');
        }
        return text.toString();
    }

    private static String kernelVersion(Path modules) throws IOException {
        try (Stream<Path> dirs = Files.list(modules)) {
            List<String> versions = dirs.map(p -> p.getFileName().toString()).sorted().toList();
            if (versions.size() != 1) {
                throw new CompartException(ErrorKind.INVALID_STATE,
                        "expected exactly one kernel in the dom0 base, found " + versions);
            }
            return versions.getFirst();
        }
    }

    /** Keeps the current template and guest base; older ones (other keys) are deleted. */
    private void prune(GuestTemplate current, Path currentBase) throws IOException {
        try (Stream<Path> entries = Files.list(cache)) {
            for (Path old : entries.toList()) {
                String name = old.getFileName().toString();
                boolean stale = (name.startsWith("guest-template-") && !old.equals(current.dir()))
                        || (name.startsWith("guest-base-") && !old.equals(currentBase));
                if (stale) {
                    progress.accept("deleting the older cached " + name);
                    ChrootMounts.deleteTree(old, cache.resolve("logs/cleanup.log"));
                }
            }
        }
    }
}
