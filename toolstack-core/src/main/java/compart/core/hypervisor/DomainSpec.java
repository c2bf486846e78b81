package compart.core.hypervisor;

import compart.errors.CompartException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * Everything needed to create one domain; built from a qube's properties by a pure function
 * ({@link compart.core.ops.DomainSpecs}). Immutable.
 *
 * @param name      the domain (qube) name
 * @param uuid      the domain handle
 * @param type      PV, PVH or HVM
 * @param memoryMib initial memory
 * @param maxmemMib maximum memory (at least memoryMib)
 * @param vcpus     virtual CPUs
 * @param kernel    path of the kernel to boot directly, empty to boot from the root volume
 * @param ramdisk   path of the initramfs, empty for none
 * @param cmdline   kernel command line
 * @param disks     block devices, xvda first
 * @param nics      network interfaces
 */
public record DomainSpec(String name, UUID uuid, Type type, long memoryMib, long maxmemMib, int vcpus,
                         Optional<String> kernel, Optional<String> ramdisk, String cmdline, List<Disk> disks,
                         List<Nic> nics) {
    /** The virtualisation mode. */
    public enum Type { PV, PVH, HVM }

    /**
     * A block device.
     *
     * @param vdev     the guest's name for it (xvda…)
     * @param target   the dom0 path backing it
     * @param writable whether the guest may write it
     */
    public record Disk(String vdev, String target, boolean writable) {
        /** Checks the fields. */
        public Disk {
            Objects.requireNonNull(vdev);
            Objects.requireNonNull(target);
        }
    }

    /**
     * A network interface whose backend is another domain (the netvm).
     *
     * @param backend the backend domain's name
     * @param mac     the guest side MAC
     * @param ip      the guest's IPv4 address
     * @param gateway the gateway address the netvm answers on
     */
    public record Nic(String backend, String mac, String ip, String gateway) {
    }

    /** Validates sizes and copies the lists. */
    public DomainSpec {
        Objects.requireNonNull(name);
        Objects.requireNonNull(uuid);
        Objects.requireNonNull(type);
        if (memoryMib <= 0 || vcpus <= 0) {
            throw CompartException.invalidValue("domain %s: memory %d MiB and vcpus %d must be "
                    + "positive", name, memoryMib, vcpus);
        }
        maxmemMib = Math.max(maxmemMib, memoryMib);
        disks = List.copyOf(disks);
        nics = List.copyOf(nics);
    }
}
