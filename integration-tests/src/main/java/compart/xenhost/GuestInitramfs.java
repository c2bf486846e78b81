package compart.xenhost;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * The initramfs of the test guests: Debian's static busybox, the PV disk and network frontend modules of the
 * dom0 kernel (the guests boot that same kernel), and {@code guest-init.sh} as {@code /init}. The guest prints
 * {@code COMPART-GUEST:} lines on its console (see the script) and powers off; about 1.3 MB gzipped.
 *
 * @param busybox        a statically linked busybox (from the dom0 root filesystem's busybox-static)
 * @param modules        kernel modules the guest loads at start, in order
 * @param init           the {@code /init} script
 */
public record GuestInitramfs(Path busybox, List<Path> modules, byte[] init) {

    /** The frontends a guest needs for {@code disk=} and {@code vif=} (relative to lib/modules/KVER/kernel). */
    public static final List<String> FRONTEND_MODULES = List.of(
            "drivers/block/xen-blkfront.ko", "drivers/net/xen-netfront.ko");

    public GuestInitramfs {
        modules = List.copyOf(modules);
        init = init.clone();
    }

    /** Takes busybox and the frontends from a dom0 root filesystem with kernel {@code kernelVersion}. */
    public static GuestInitramfs fromRootfs(Path rootfs, String kernelVersion) {
        Path kernelDir = rootfs.resolve("lib/modules").resolve(kernelVersion).resolve("kernel");
        return new GuestInitramfs(rootfs.resolve("bin/busybox"),
                FRONTEND_MODULES.stream().map(kernelDir::resolve).toList(),
                ImageSpec.resource(ImageSpec.GUEST_INIT));
    }

    /** Writes the gzipped newc archive. */
    public void writeTo(Path target) throws IOException {
        for (Path input : concat(busybox, modules)) {
            if (!Files.isRegularFile(input)) {
                throw new IOException("guest initramfs input missing: " + input);
            }
        }
        try (OutputStream file = Files.newOutputStream(target); var gzip = new GZIPOutputStream(file, 1 << 16)) {
            var archive = new CpioArchive(gzip);
            archive.directory("bin", 0755)
                    .directory("dev", 0755)
                    .directory("proc", 0755)
                    .directory("sys", 0755)
                    .directory("lib", 0755)
                    .directory("lib/modules", 0755)
                    .characterDevice("dev/console", 0600, 5, 1)
                    .characterDevice("dev/null", 0666, 1, 3)
                    .file("bin/busybox", 0755, Files.readAllBytes(busybox))
                    .symlink("bin/sh", "busybox")
                    .file("init", 0755, init);
            for (Path module : modules) {
                archive.file("lib/modules/" + module.getFileName(), 0644, Files.readAllBytes(module));
            }
            archive.finish();
        }
    }

    private static List<Path> concat(Path first, List<Path> rest) {
        var all = new ArrayList<Path>(rest.size() + 1);
        all.add(first);
        all.addAll(rest);
        return all;
    }
}
