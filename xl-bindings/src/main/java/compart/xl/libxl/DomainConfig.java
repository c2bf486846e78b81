package compart.xl.libxl;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Everything needed to create one domain with libxl, as an immutable value. {@link LibxlJson#domainConfig} turns
 * it into the libxl JSON that {@link LibxlContext#createPaused(DomainConfig)} hands to
 * {@code libxl_domain_config_from_json}. Validation here catches what libxl would silently drop or reject late.
 *
 * @param name        the domain name (xenstore {@code /local/domain/N/name}); 1-64 chars, no {@code /}
 * @param uuid        the domain handle
 * @param memoryKib   initial memory (libxl {@code target_memkb}); at least 16 MiB
 * @param maxMemoryKib memory limit (libxl {@code max_memkb}); at least {@code memoryKib}
 * @param vcpus       number of vCPUs, 1-128, all online
 * @param boot        how the domain boots: PVH or HVM
 * @param disks       block devices, with distinct {@code vdev}s
 * @param nics        network interfaces, with distinct {@code devid}s
 * @param onPoweroff  what libxl does when the guest powers off
 * @param onReboot    what libxl does when the guest reboots
 * @param onCrash     what libxl does when the guest crashes
 */
public record DomainConfig(String name, UUID uuid, long memoryKib, long maxMemoryKib, int vcpus, Boot boot,
                           List<DiskConfig> disks, List<NicConfig> nics, OnShutdown onPoweroff, OnShutdown onReboot,
                           OnShutdown onCrash) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}");

    public DomainConfig {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("domain name must be 1-64 characters of [A-Za-z0-9_.+-] starting "
                    + "with a letter or digit, got '" + name + "'");
        }
        Objects.requireNonNull(uuid, "uuid");
        if (memoryKib < 16 * 1024) {
            throw new IllegalArgumentException("memory of domain " + name + " must be at least 16 MiB, got "
                    + memoryKib + " KiB");
        }
        if (maxMemoryKib < memoryKib) {
            throw new IllegalArgumentException("max memory of domain " + name + " (" + maxMemoryKib
                    + " KiB) is below its memory (" + memoryKib + " KiB)");
        }
        if (vcpus < 1 || vcpus > 128) {
            throw new IllegalArgumentException("vcpus of domain " + name + " must be 1-128, got " + vcpus);
        }
        Objects.requireNonNull(boot, "boot");
        disks = List.copyOf(disks);
        nics = List.copyOf(nics);
        var vdevs = new HashSet<String>();
        for (DiskConfig disk : disks) {
            if (!vdevs.add(disk.vdev())) {
                throw new IllegalArgumentException("domain " + name + " has two disks with vdev " + disk.vdev());
            }
        }
        var devids = new HashSet<Integer>();
        for (NicConfig nic : nics) {
            if (!devids.add(nic.devid())) {
                throw new IllegalArgumentException("domain " + name + " has two NICs with devid " + nic.devid());
            }
        }
        Objects.requireNonNull(onPoweroff, "onPoweroff");
        Objects.requireNonNull(onReboot, "onReboot");
        Objects.requireNonNull(onCrash, "onCrash");
    }

    /** A config with no devices that destroys the domain on poweroff and crash and restarts it on reboot. */
    public static DomainConfig of(String name, UUID uuid, long memoryKib, int vcpus, Boot boot) {
        return new DomainConfig(name, uuid, memoryKib, memoryKib, vcpus, boot, List.of(), List.of(),
                OnShutdown.DESTROY, OnShutdown.RESTART, OnShutdown.DESTROY);
    }

    /** @return a copy with these disks */
    public DomainConfig withDisks(List<DiskConfig> newDisks) {
        return new DomainConfig(name, uuid, memoryKib, maxMemoryKib, vcpus, boot, newDisks, nics, onPoweroff,
                onReboot, onCrash);
    }

    /** @return a copy with these NICs */
    public DomainConfig withNics(List<NicConfig> newNics) {
        return new DomainConfig(name, uuid, memoryKib, maxMemoryKib, vcpus, boot, disks, newNics, onPoweroff,
                onReboot, onCrash);
    }

    /** @return a copy with these shutdown actions */
    public DomainConfig withActions(OnShutdown poweroff, OnShutdown reboot, OnShutdown crash) {
        return new DomainConfig(name, uuid, memoryKib, maxMemoryKib, vcpus, boot, disks, nics, poweroff, reboot,
                crash);
    }

    /** @return the domain type this config creates */
    public DomainType type() {
        return switch (boot) {
            case Boot.Pvh _ -> DomainType.PVH;
            case Boot.Hvm _ -> DomainType.HVM;
        };
    }

    /** What libxl does when the guest shuts down ({@code libxl_action_on_shutdown}). */
    public enum OnShutdown implements JsonNamed {
        DESTROY, RESTART, RESTART_RENAME, PRESERVE, COREDUMP_DESTROY, COREDUMP_RESTART, SOFT_RESET;

    }

    /** How the domain boots. */
    public sealed interface Boot {
        /**
         * PVH: the kernel is loaded directly, no device model.
         *
         * @param kernel  the guest kernel in dom0
         * @param ramdisk the initramfs, if any
         * @param cmdline the kernel command line (may be empty)
         */
        record Pvh(Path kernel, Optional<Path> ramdisk, String cmdline) implements Boot {
            public Pvh {
                Objects.requireNonNull(kernel, "kernel");
                if (!kernel.isAbsolute()) {
                    throw new IllegalArgumentException("PVH kernel path must be absolute, got " + kernel);
                }
                Objects.requireNonNull(ramdisk, "ramdisk");
                ramdisk.ifPresent(r -> {
                    if (!r.isAbsolute()) {
                        throw new IllegalArgumentException("PVH ramdisk path must be absolute, got " + r);
                    }
                });
                Objects.requireNonNull(cmdline, "cmdline");
            }
        }

        /**
         * HVM with the qemu-xen device model in dom0.
         *
         * @param firmware  SeaBIOS or OVMF
         * @param kernel    a kernel for direct boot (skips the boot loader), if any
         * @param ramdisk   its initramfs, if any
         * @param cmdline   its command line (empty when there is no kernel)
         * @param serial    the emulated serial port: {@code "pty"}, {@code "file:/path"}, ...; empty = none
         * @param bootOrder boot device letters, e.g. {@code "dc"} (CD then disk)
         * @param vga       the emulated graphics card
         * @param vncListen the address VNC listens on; empty = VNC off
         */
        record Hvm(Firmware firmware, Optional<Path> kernel, Optional<Path> ramdisk, String cmdline,
                   Optional<String> serial, String bootOrder, Vga vga, Optional<String> vncListen) implements Boot {
            private static final Pattern BOOT_ORDER = Pattern.compile("[acdn]{1,4}");

            public Hvm {
                Objects.requireNonNull(firmware, "firmware");
                Objects.requireNonNull(kernel, "kernel");
                Objects.requireNonNull(ramdisk, "ramdisk");
                Objects.requireNonNull(cmdline, "cmdline");
                Objects.requireNonNull(serial, "serial");
                Objects.requireNonNull(bootOrder, "bootOrder");
                if (!BOOT_ORDER.matcher(bootOrder).matches()) {
                    throw new IllegalArgumentException("HVM boot order must be 1-4 of the letters a, c, d, n; got '"
                            + bootOrder + "'");
                }
                if (kernel.isEmpty() && ramdisk.isPresent()) {
                    throw new IllegalArgumentException("HVM ramdisk " + ramdisk.get() + " given without a kernel");
                }
                Objects.requireNonNull(vga, "vga");
                Objects.requireNonNull(vncListen, "vncListen");
            }
        }
    }

    /** HVM firmware ({@code libxl_bios_type}). */
    public enum Firmware implements JsonNamed {
        SEABIOS, OVMF;
    }

    /** HVM graphics card ({@code libxl_vga_interface_type}). */
    public enum Vga implements JsonNamed {
        NONE, STD, CIRRUS;
    }
}
