package compart.xenhost.dom0;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

/**
 * What the scenario's qubes boot: a kernel directory in Qubes' layout ({@code vm-kernels/NAME/vmlinuz},
 * {@code initramfs}, {@code modules.img}) whose initramfs is the harness's busybox guest with the test qrexec agent
 * and {@code qube-init.sh} as {@link #INIT} (kernelopts {@code rdinit=/qube-init}), and a template root image (ext4) made from a directory tree, the
 * "guest image" a TemplateVM is created from.
 */
final class QubeGuestImages {
    /** The qubes' init in the initramfs; they boot with {@code rdinit=}{@value}. */
    static final String INIT = "/qube-init";
    /** dom0's modules the qube init loads: qrexec's (vchan) and ext4's, and netback for a net qube. */
    static final List<String> QREXEC_MODULES = List.of("drivers/xen/xen-evtchn", "drivers/xen/xen-gntdev",
            "drivers/xen/xen-gntalloc");
    static final List<String> QUBE_MODULES = List.of("lib/crc16", "fs/mbcache", "fs/jbd2/jbd2",
            "crypto/crc32c_generic", "fs/ext4/ext4", "drivers/net/xen-netback/xen-netback");

    private QubeGuestImages() {
    }

    /** Where the harness staged the compiled agent, its init scripts and the test service. */
    static Path agentDir() {
        return Path.of(System.getProperty("compart.xenhost.share"), "guest", "qrexec");
    }

    /** Writes {@code kernels/NAME} for the qubes: the guest kernel, the qube initramfs, an empty modules.img. */
    static void kernelDir(Path dir) throws Exception {
        Path agent = agentDir();
        Path overlay = Files.createTempDirectory("qube-overlay");
        Files.createDirectories(overlay.resolve("bin"));
        Files.createDirectories(overlay.resolve("etc/qubes-rpc"));
        Files.createDirectories(overlay.resolve("lib/modules/qrexec"));
        Files.createDirectories(overlay.resolve("lib/modules/qube"));
        Files.copy(agent.resolve("qrexec-agent"), overlay.resolve("bin/qrexec-agent"));
        Files.copy(agent.resolve("qube-init.sh"), overlay.resolve(INIT.substring(1)));
        Files.copy(agent.resolve("test.Echo"), overlay.resolve("etc/qubes-rpc/test.Echo"));
        String kernel = Dom0Host.run(List.of("uname", "-r"), Duration.ofSeconds(10)).output().strip();
        Path modules = Path.of("/lib/modules", kernel, "kernel");
        for (String module : QREXEC_MODULES) {
            Path ko = modules.resolve(module + ".ko");
            Files.copy(ko, overlay.resolve("lib/modules/qrexec").resolve(ko.getFileName()));
        }
        for (String module : QUBE_MODULES) {
            Path ko = modules.resolve(module + ".ko");
            Files.copy(ko, overlay.resolve("lib/modules/qube").resolve(ko.getFileName()));
        }
        Files.createDirectories(dir);
        Files.copy(Dom0Host.guestKernel(), dir.resolve("vmlinuz"), StandardCopyOption.REPLACE_EXISTING);
        Path initramfs = dir.resolve("initramfs");
        // One gzip stream holding both cpio archives (the kernel unpacks the second after the first). Not a second
        // gzip member appended: libxc gunzips a PV/PVH ramdisk itself, by the size in the file's last 4 bytes,
        // and keeps only the first member when that size is large enough for it (the overlay was lost so).
        Dom0Host.run(List.of("sh", "-c", "cd " + overlay + " && chmod 755 bin/qrexec-agent " + INIT.substring(1)
                        + " etc/qubes-rpc/test.Echo && { gzip -dc " + Dom0Host.guestInitrd() + " && find . -mindepth 1"
                        + " | sed 's|^\\./||' | cpio -o -H newc --quiet -R 0:0; } | gzip -1 > " + initramfs),
                Duration.ofMinutes(1)).requireSuccess(List.of("guest initramfs with the qube overlay"));
        try (var f = new RandomAccessFile(dir.resolve("modules.img").toFile(), "rw")) {
            f.setLength(1 << 20);
        }
    }

    /**
     * An ext4 image (4 KiB blocks, so that copies of a file line up for deduplication) holding {@code files}
     * (path relative to the root, then its content) and a 16 MiB file of random bytes, {@code /blob}.
     */
    static void templateRoot(Path image, long mib, List<String> files) throws IOException {
        Path tree = Files.createTempDirectory("template-root");
        for (int i = 0; i + 1 < files.size(); i += 2) {
            Path file = tree.resolve(files.get(i));
            Files.createDirectories(file.getParent());
            Files.writeString(file, files.get(i + 1));
        }
        var random = new java.util.Random(42);
        var blob = new byte[16 << 20];
        random.nextBytes(blob);
        Files.write(tree.resolve("blob"), blob);
        Files.deleteIfExists(image);
        Dom0Host.run(List.of("mkfs.ext4", "-q", "-b", "4096", "-d", tree.toString(), image.toString(), mib + "M"),
                Duration.ofMinutes(2)).requireSuccess(List.of("mkfs.ext4 -d"));
    }
}
