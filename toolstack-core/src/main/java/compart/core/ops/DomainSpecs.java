package compart.core.ops;

import compart.core.hypervisor.DomainSpec;
import compart.core.model.Inventory;
import compart.core.model.Prop;
import compart.core.model.PropertyCatalog;
import compart.core.model.Qube;
import compart.core.model.VolumeDefinition;
import compart.core.storage.QubeStorage;
import compart.core.storage.Storage;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Builds the {@link DomainSpec} of a qube from its properties: pure functions. Disks: root xvda, private xvdb,
 * volatile xvdc, kernel modules xvdd (those the qube has), attached once the files backing them are known; one NIC
 * with its netvm as backend when networked.
 */
public final class DomainSpecs {
    /**
     * Options Qubes passes to every Linux qube kernel besides {@code kernelopts} (R4.3's kernelopts_common).
     * {@code xen_privcmd.unrestricted}: since the privcmd lockdown of 2024 a domU's kernel blocks every hypercall
     * of /dev/xen/privcmd without it, and libvchan-xen (QubesDB, qrexec in the qube) needs one.
     */
    static final String COMMON_KERNELOPTS = "root=/dev/mapper/dmroot ro nomodeset console=hvc0 rd_NO_PLYMOUTH "
            + "rd.plymouth.enable=0 plymouth.enable=0 xen_privcmd.unrestricted";
    private static final List<String> ORDER = List.of("root", "private", "volatile", "kernel");

    private DomainSpecs() {
    }

    /**
     * Which volume backs a disk of the domain.
     *
     * @param vdev     the guest's name for the disk (xvda…)
     * @param volume   the qube's volume behind it (root, private, volatile, kernel)
     * @param writable whether the guest may write it
     */
    public record DiskSlot(String vdev, String volume, boolean writable) {
    }

    /**
     * The spec with the files the volumes' pool drivers say they will have once started
     * ({@link QubeStorage#plannedBlockDevicePath}, no I/O): for tests and documentation; a start uses
     * {@link #withoutDisks}, {@link #disks} and {@link #withDisks}.
     *
     * @param inv  the inventory
     * @param qube the qube to start
     * @return its domain spec
     */
    public static DomainSpec build(Inventory inv, Qube qube) {
        var planned = new Storage().of(inv, qube);
        return build(inv, qube, v -> planned.plannedBlockDevicePath(v).toString());
    }

    /**
     * @param inv        the inventory
     * @param qube       the qube to start
     * @param volumePath the file backing each volume's block device once started
     * @return its domain spec
     */
    public static DomainSpec build(Inventory inv, Qube qube, Function<VolumeDefinition, String> volumePath) {
        return withDisks(withoutDisks(inv, qube), disks(inv, qube), v -> volumePath.apply(qube.volumes().get(v)));
    }

    /**
     * @param inv  the inventory
     * @param qube the qube to start
     * @return its domain spec, without disks
     */
    public static DomainSpec withoutDisks(Inventory inv, Qube qube) {
        var type = switch (inv.value(qube, Prop.VIRT_MODE).orElse("pvh")) {
            case "hvm" -> DomainSpec.Type.HVM;
            case "pv" -> DomainSpec.Type.PV;
            default -> DomainSpec.Type.PVH;
        };
        long memory = inv.value(qube, Prop.MEMORY);
        long maxmem = inv.value(qube, Prop.MAXMEM);
        String kernel = inv.value(qube, Prop.KERNEL).orElse("");
        Optional<String> kernelPath = Optional.empty();
        Optional<String> ramdisk = Optional.empty();
        String cmdline = "";
        if (!kernel.isEmpty()) {
            var dir = Storage.kernelDirectory(inv, kernel);
            kernelPath = Optional.of(dir.resolve("vmlinuz").toString());
            ramdisk = Optional.of(dir.resolve("initramfs").toString());
            cmdline = (COMMON_KERNELOPTS + " " + inv.value(qube, Prop.KERNELOPTS).orElse("")).strip();
        }
        var nics = new ArrayList<DomainSpec.Nic>();
        var netvm = inv.value(qube, Prop.NETVM).flatMap(inv::find);
        if (netvm.isPresent()) {
            nics.add(new DomainSpec.Nic(netvm.get().name(), inv.value(qube, Prop.MAC).orElseThrow(),
                    inv.value(qube, Prop.VISIBLE_IP).orElseThrow(), inv.value(netvm.get(), Prop.GATEWAY).orElse("")));
        }
        return new DomainSpec(qube.name(), qube.uuid(), type, memory, maxmem == 0 ? memory : maxmem,
                inv.value(qube, Prop.VCPUS).intValue(), kernelPath, ramdisk, cmdline, List.of(), nics);
    }

    /**
     * @param inv  the inventory
     * @param qube the qube to start
     * @return the volume behind each of its disks: root xvda, private xvdb, volatile xvdc, kernel modules xvdd
     *         (those it has; kernel only with a kernel)
     */
    public static List<DiskSlot> disks(Inventory inv, Qube qube) {
        boolean kernel = !inv.value(qube, Prop.KERNEL).orElse("").isEmpty();
        var disks = new ArrayList<DiskSlot>();
        char letter = 'a';
        for (String name : ORDER) {
            var v = qube.volumes().get(name);
            if (v != null && !(name.equals("kernel") && !kernel)) {
                disks.add(new DiskSlot("xvd" + letter, name, v.rw()));
            }
            letter++;
        }
        return disks;
    }

    /**
     * @param spec       a spec without disks
     * @param disks      the volume behind each disk
     * @param volumePath the file backing each volume's block device (by volume name) once started
     * @return the spec with its disks
     */
    public static DomainSpec withDisks(DomainSpec spec, List<DiskSlot> disks, Function<String, String> volumePath) {
        var attached = disks.stream().map(d -> new DomainSpec.Disk(d.vdev(), volumePath.apply(d.volume()),
                d.writable())).toList();
        return new DomainSpec(spec.name(), spec.uuid(), spec.type(), spec.memoryMib(), spec.maxmemMib(),
                spec.vcpus(), spec.kernel(), spec.ramdisk(), spec.cmdline(), attached, spec.nics());
    }

    /**
     * @return the memory a qube needs to start, in MiB, with Qubes' per-domain overhead (qubesd's request to
     *         qmemman): 4 MiB, 1.5 MiB per vCPU and, but for PV, 8 KiB per MiB of maxmem for the paging tables
     */
    public static long memoryNeeded(Inventory inv, Qube qube) {
        long maxmem = inv.value(qube, Prop.MAXMEM);
        long paging = inv.value(qube, Prop.VIRT_MODE).orElse("pvh").equals("pv") ? 0
                : ((maxmem > 0 ? maxmem : inv.value(qube, Prop.MEMORY)) + 127) / 128;
        return inv.value(qube, Prop.MEMORY) + 4 + (inv.value(qube, Prop.VCPUS) * 3 + 1) / 2 + paging;
    }

    /** @return Qubes' default memory, for documentation of the defaults */
    static int defaultMemory() {
        return PropertyCatalog.DEFAULT_MEMORY;
    }
}
