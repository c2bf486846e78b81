package compart.xenhost;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The QEMU command line that boots the Xen host: Xen loaded by QEMU's multiboot loader with the dom0 kernel and
 * initrd as modules, the dom0 disk read-only underneath a throw-away snapshot, and the host's share over 9p.
 *
 * <p>Pure TCG (no KVM needed). {@code -cpu qemu64,+svm,+npt} gives Xen emulated AMD SVM with nested paging, so
 * it reports {@code virt_caps: pv hvm hap} and can run PVH and HVM guests. One vCPU: with two, a quarter of the
 * nested guest boots triple-faulted in QEMU 7.2's emulated SVM; with one, none did (see the devhost notes).
 *
 * @param image     the image to boot
 * @param share     host directory shared with dom0 (mount tag {@code compart})
 * @param memoryMib memory of the whole machine; dom0 gets {@code dom0Mib}, Xen keeps the rest for guests
 * @param dom0Mib   dom0's fixed memory
 * @param vcpus     number of CPUs (keep 1, see above)
 */
public record QemuCommand(XenHostImage image, Path share, int memoryMib, int dom0Mib, int vcpus) {

    /** The mount tag of the share, also in {@code dom0-init.sh}. */
    public static final String SHARE_TAG = "compart";

    public QemuCommand {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(share, "share");
        if (dom0Mib < 512 || memoryMib < dom0Mib + 512) {
            throw new IllegalArgumentException("dom0 needs >= 512 MiB and guests >= 512 MiB more: "
                    + dom0Mib + " of " + memoryMib + " MiB");
        }
        if (vcpus < 1) {
            throw new IllegalArgumentException("vcpus must be >= 1: " + vcpus);
        }
    }

    /** The defaults the tests run with: 4 GiB machine, 1.5 GiB dom0, one vCPU. */
    public static QemuCommand forTests(XenHostImage image, Path share) {
        return new QemuCommand(image, share, 4096, 1536, 1);
    }

    /** Xen's command line: console on the first serial port, full logging, fixed dom0 size. */
    public String xenCommandLine() {
        return "console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all dom0_mem=" + dom0Mib + "M,max:" + dom0Mib
                + "M dom0_max_vcpus=" + vcpus;
    }

    /** dom0's kernel command line; its console is Xen's (hvc0), which Xen sends to the serial port. */
    public String dom0CommandLine() {
        return "root=/dev/vda rw console=hvc0 earlyprintk=xen quiet init=/lib/systemd/systemd";
    }

    public List<String> argv() {
        var argv = new ArrayList<String>(List.of(
                "qemu-system-x86_64",
                "-machine", "pc",
                "-accel", "tcg,thread=multi",
                "-cpu", "qemu64,+svm,+npt",
                "-smp", Integer.toString(vcpus),
                "-m", Integer.toString(memoryMib),
                "-nodefaults", "-no-user-config",
                "-display", "none", "-vga", "none", "-monitor", "none",
                "-serial", "stdio",
                "-no-reboot",
                "-kernel", image.xen().toString(),
                "-append", xenCommandLine(),
                // multiboot modules: "file args,file args"; a comma inside a module's arguments is written ",,"
                "-initrd", multibootModule(image.dom0Kernel(), dom0CommandLine()) + ","
                        + multibootModule(image.dom0Initrd(), ""),
                "-drive", "file=" + driveOption(image.dom0Disk()) + ",if=virtio,format=raw,cache=unsafe,snapshot=on",
                "-device", "virtio-rng-pci",
                "-virtfs", "local,path=" + driveOption(share) + ",mount_tag=" + SHARE_TAG
                        + ",security_model=none,id=" + SHARE_TAG));
        return List.copyOf(argv);
    }

    static String multibootModule(Path file, String arguments) {
        if (file.toString().contains(" ") || file.toString().contains(",")) {
            throw new IllegalArgumentException("a multiboot module path may not contain ' ' or ',': " + file);
        }
        return arguments.isEmpty() ? file.toString() : file + " " + arguments.replace(",", ",,");
    }

    /** A path inside a QEMU option list: commas are doubled. */
    static String driveOption(Path file) {
        return file.toString().replace(",", ",,");
    }
}
