package compart.core.hypervisor.libxl;

import compart.core.hypervisor.DomainSpec;
import compart.errors.CompartException;
import compart.xl.libxl.DiskConfig;
import compart.xl.libxl.DomainConfig;
import compart.xl.libxl.LibxlJson;
import compart.xl.libxl.NicConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Optional;
import java.util.function.ToIntFunction;

/**
 * A {@link DomainSpec} as libxl's domain config: a pure function with one small method per device kind. The
 * guest is destroyed on poweroff and crash (the toolstack then stops its volumes, as Qubes does) and on reboot
 * too (Qubes restarts a qube itself, with fresh volumes).
 */
public final class LibxlDomainConfigs {
    /** The hotplug script Qubes' net qubes run for a qube's vif (routing, not a bridge). */
    static final String VIF_SCRIPT = "vif-route-qubes";
    /**
     * The package's disk hotplug script: attaches a volume file to a loop device in four programs, without the
     * global lock and sharing scan of Xen's {@code block} (see the script). Used when installed.
     */
    public static final Path BLOCK_SCRIPT = Path.of("/usr/lib/compart/xen/block-loop");

    private LibxlDomainConfigs() {
    }

    /**
     * @param spec          the domain to create
     * @param backendDomids the domid of a running domain by name (a NIC's backend, the netvm)
     * @return libxl's JSON for {@code libxl_domain_config_from_json}
     * @throws CompartException INVALID_VALUE when libxl cannot express the spec (PVH without a kernel, PV)
     */
    public static String json(DomainSpec spec, ToIntFunction<String> backendDomids) {
        return json(spec, backendDomids, Optional.empty());
    }

    /** As {@link #json(DomainSpec, ToIntFunction)}, with {@code blockScript} attaching every disk (empty: Xen's). */
    public static String json(DomainSpec spec, ToIntFunction<String> backendDomids, Optional<Path> blockScript) {
        return LibxlJson.domainConfig(config(spec, backendDomids, blockScript));
    }

    /** @return the libxl config record of {@code spec}, see {@link #json} */
    public static DomainConfig config(DomainSpec spec, ToIntFunction<String> backendDomids) {
        return config(spec, backendDomids, Optional.empty());
    }

    /** @return the libxl config record of {@code spec}, its disks attached by {@code blockScript} if given */
    public static DomainConfig config(DomainSpec spec, ToIntFunction<String> backendDomids,
                                      Optional<Path> blockScript) {
        var disks = new ArrayList<DiskConfig>();
        for (DomainSpec.Disk d : spec.disks()) {
            DiskConfig disk = disk(spec.type() == DomainSpec.Type.HVM ? hvmVdev(d) : d);
            disks.add(blockScript.map(disk::withScript).orElse(disk));
        }
        var nics = new ArrayList<NicConfig>();
        for (int i = 0; i < spec.nics().size(); i++) {
            var n = spec.nics().get(i);
            nics.add(nic(n, i, backendDomids.applyAsInt(n.backend())));
        }
        try {
            return new DomainConfig(spec.name(), spec.uuid(), spec.memoryMib() * 1024, spec.maxmemMib() * 1024,
                    spec.vcpus(), boot(spec), disks, nics, DomainConfig.OnShutdown.DESTROY,
                    DomainConfig.OnShutdown.DESTROY, DomainConfig.OnShutdown.DESTROY);
        } catch (IllegalArgumentException e) {
            throw CompartException.invalidValue("domain %s cannot be expressed for libxl: %s", spec.name(),
                    e.getMessage());
        }
    }

    /** @return how the domain boots: PVH from the qube's kernel, HVM with SeaBIOS (the kernel if one is set) */
    static DomainConfig.Boot boot(DomainSpec spec) {
        return switch (spec.type()) {
            case PVH -> new DomainConfig.Boot.Pvh(Path.of(spec.kernel().orElseThrow(() -> CompartException
                    .invalidValue("qube %s: a PVH qube needs a kernel (set its kernel property, or use virt_mode "
                            + "hvm)", spec.name()))), spec.ramdisk().map(Path::of), spec.cmdline());
            case HVM -> new DomainConfig.Boot.Hvm(DomainConfig.Firmware.SEABIOS, spec.kernel().map(Path::of),
                    spec.kernel().isPresent() ? spec.ramdisk().map(Path::of) : Optional.empty(),
                    spec.kernel().isPresent() ? spec.cmdline() : "", Optional.of("pty"), "c", DomainConfig.Vga.NONE,
                    Optional.empty());
            case PV -> throw CompartException.invalidValue("qube %s: virt_mode pv is not supported by Compart (use "
                    + "pvh or hvm)", spec.name());
        };
    }

    /**
     * An HVM domain also sees its first four disks (xvda..xvdd) as emulated IDE disks, and qemu-xen has no
     * read-only IDE ("qemu-xen doesn't support read-only IDE disk drivers", and the domain is not created). A
     * read-only disk there (the kernel's modules image, xvdd) moves four places on (xvdh): PV only, still
     * read-only. Writable disks keep their names.
     */
    static DomainSpec.Disk hvmVdev(DomainSpec.Disk d) {
        if (d.writable() || !d.vdev().matches("xvd[a-d]")) {
            return d;
        }
        return new DomainSpec.Disk("xvd" + (char) (d.vdev().charAt(3) + 4), d.target(), false);
    }

    /** @return a raw disk served by blkback in dom0 from the volume's file */
    static DiskConfig disk(DomainSpec.Disk d) {
        return new DiskConfig(Path.of(d.target()), d.vdev(), DiskConfig.Backend.PHY, DiskConfig.Format.RAW,
                d.writable(), false, 0);
    }

    /** @return a PV NIC whose backend is the netvm's domain, routed by Qubes' vif script */
    static NicConfig nic(DomainSpec.Nic n, int devid, int backendDomid) {
        return new NicConfig(devid, n.mac(), Optional.of(n.ip()), backendDomid, Optional.of(VIF_SCRIPT),
                Optional.empty(), NicConfig.Type.VIF, Optional.empty());
    }
}
