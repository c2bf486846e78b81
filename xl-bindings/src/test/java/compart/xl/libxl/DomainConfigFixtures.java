package compart.xl.libxl;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** Domain configs shared by the JSON tests, the fake-Xen round trip and the tests on the Xen host. */
public final class DomainConfigFixtures {
    private DomainConfigFixtures() {
    }

    /** A PVH qube with a kernel, an initramfs, two disks (one in dom0, one served by domain 0 explicitly) and a routed NIC in a net qube. */
    public static DomainConfig pvhWorkVm() {
        return new DomainConfig("work-vm", UUID.fromString("0b1e7e6a-5f5c-4f5e-9a3f-2b7c9e1d0a11"), 524288, 1048576, 2,
                new DomainConfig.Boot.Pvh(Path.of("/var/lib/qubes/vm-kernels/6.6/vmlinuz"),
                        Optional.of(Path.of("/var/lib/qubes/vm-kernels/6.6/initramfs")), "console=hvc0 root=/dev/xvda rw"),
                List.of(DiskConfig.rawPhy(Path.of("/var/lib/vms/work-vm/root.img"), "xvda"),
                        new DiskConfig(Path.of("/dev/vg0/work-private"), "xvdb", DiskConfig.Backend.PHY,
                                DiskConfig.Format.RAW, true, false, 0)),
                List.of(new NicConfig(0, "00:16:3e:5e:6c:01", Optional.of("10.137.0.5"), 1, Optional.of("vif-route"),
                        Optional.empty(), NicConfig.Type.VIF, Optional.empty())),
                DomainConfig.OnShutdown.DESTROY, DomainConfig.OnShutdown.RESTART, DomainConfig.OnShutdown.DESTROY);
    }

    /** An HVM guest with SeaBIOS, VNC on localhost, a disk and a CD-ROM through qdisk, and an emulated e1000 NIC. */
    public static DomainConfig hvmWinVm() {
        return new DomainConfig("win-vm", UUID.fromString("7d3c6a2e-2b8f-4c61-b0a4-5e0f6c2d9b33"), 4194304, 4194304, 2,
                new DomainConfig.Boot.Hvm(DomainConfig.Firmware.SEABIOS, Optional.empty(), Optional.empty(), "",
                        Optional.of("pty"), "dc", DomainConfig.Vga.STD, Optional.of("127.0.0.1")),
                List.of(new DiskConfig(Path.of("/var/lib/vms/win-vm/disk.img"), "hda", DiskConfig.Backend.QDISK,
                                DiskConfig.Format.RAW, true, false, 0),
                        new DiskConfig(Path.of("/var/lib/iso/install.iso"), "hdc", DiskConfig.Backend.QDISK,
                                DiskConfig.Format.RAW, false, true, 0)),
                List.of(new NicConfig(0, "00:16:3e:5e:6c:02", Optional.empty(), 0, Optional.empty(),
                        Optional.of("xenbr0"), NicConfig.Type.VIF_IOEMU, Optional.of("e1000"))),
                DomainConfig.OnShutdown.DESTROY, DomainConfig.OnShutdown.RESTART, DomainConfig.OnShutdown.PRESERVE);
    }

    /** A PVH guest booting {@code kernel}/{@code initrd} with a console on hvc0, destroyed when it powers off. */
    public static DomainConfig pvhTestGuest(String name, Path kernel, Optional<Path> initrd, long memoryKib) {
        return DomainConfig.of(name, UUID.randomUUID(), memoryKib, 1,
                new DomainConfig.Boot.Pvh(kernel, initrd, "console=hvc0 quiet"));
    }

    /** An HVM guest with direct kernel boot, no graphics and its serial port in a file (like the devhost's hvm-test). */
    public static DomainConfig hvmTestGuest(String name, Path kernel, Optional<Path> initrd, Path serialLog) {
        return DomainConfig.of(name, UUID.randomUUID(), 262144, 1,
                new DomainConfig.Boot.Hvm(DomainConfig.Firmware.SEABIOS, Optional.of(kernel), initrd,
                        "console=ttyS0 quiet", Optional.of("file:" + serialLog), "c", DomainConfig.Vga.NONE,
                        Optional.empty()));
    }
}
