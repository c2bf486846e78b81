package compart.core.hypervisor.libxl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.core.hypervisor.DomainSpec;
import compart.core.model.Inventory;
import compart.core.model.PoolDefinition;
import compart.core.model.QubeClass;
import compart.core.ops.DomainSpecs;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * DomainSpec to libxl JSON, against golden files in {@code src/test/resources/compart/core/hypervisor/libxl}. Set
 * {@code -Dcompart.golden.update=true} to rewrite them (then review the diff).
 */
class LibxlDomainConfigsTest {
    static final UUID UUID1 = UUID.fromString("5c9d0b7e-1b9f-4c36-9a51-2b8d6f3e7a10");

    static void assertGolden(String name, String actual) throws IOException {
        Path golden = Path.of("src/test/resources/compart/core/hypervisor/libxl", name);
        if (Boolean.getBoolean("compart.golden.update")) {
            Files.writeString(golden, actual, StandardCharsets.UTF_8);
        }
        assertThat(actual).isEqualTo(Files.readString(golden, StandardCharsets.UTF_8));
    }

    static DomainSpec pvh() {
        return new DomainSpec("work", UUID1, DomainSpec.Type.PVH, 400, 4000, 2,
                Optional.of("/var/lib/qubes/vm-kernels/6.1/vmlinuz"),
                Optional.of("/var/lib/qubes/vm-kernels/6.1/initramfs"), "root=/dev/mapper/dmroot ro console=hvc0",
                List.of(new DomainSpec.Disk("xvda", "/p/appvms/work/root-dirty.img", true),
                        new DomainSpec.Disk("xvdb", "/p/appvms/work/private-dirty.img", true),
                        new DomainSpec.Disk("xvdc", "/p/appvms/work/volatile-dirty.img", true),
                        new DomainSpec.Disk("xvdd", "/var/lib/qubes/vm-kernels/6.1/modules.img", false)),
                List.of(new DomainSpec.Nic("sys-net", "00:16:3e:5e:6c:00", "10.137.0.5", "10.138.0.1")));
    }

    @Test
    void pvhQube_withFourDisksAndANic_matchesTheGoldenJson() throws IOException {
        assertGolden("pvh-work.json", LibxlDomainConfigs.json(pvh(), name -> name.equals("sys-net") ? 7 : -1));
    }

    @Test
    void hvmQube_withoutKernel_bootsFromDiskWithSeaBios() throws IOException {
        var spec = new DomainSpec("win", UUID1, DomainSpec.Type.HVM, 2048, 2048, 2, Optional.empty(),
                Optional.empty(), "", List.of(new DomainSpec.Disk("xvda", "/p/appvms/win/root-dirty.img", true)),
                List.of());
        assertGolden("hvm-win.json", LibxlDomainConfigs.json(spec, n -> 0));
    }

    @Test
    void specBuiltFromTheInventory_becomesTheSameJsonEveryTime() throws IOException {
        var r = new Random(3);
        var inv = Inventory.initial(List.of(new PoolDefinition("varlibqubes", "file-reflink", Map.of("dir_path", "/pool")),
                        new PoolDefinition("linux-kernel", "linux-kernel", Map.of("dir_path", "/kernels"))), 0)
                .withGlobalProperty("default_kernel", "6.1")
                .withNewQube(QubeClass.TemplateVM, "debian", "black", Optional.empty(), r)
                .withNewQube(QubeClass.AppVM, "sys-net", "red", Optional.of("debian"), r)
                .withProperty("sys-net", "provides_network", "True")
                .withNewQube(QubeClass.AppVM, "mail", "blue", Optional.of("debian"), r)
                .withProperty("mail", "netvm", "sys-net");
        var spec = DomainSpecs.build(inv, inv.qube("mail"));
        String json = LibxlDomainConfigs.json(spec, n -> 3);
        assertThat(json).isEqualTo(LibxlDomainConfigs.json(DomainSpecs.build(inv, inv.qube("mail")), n -> 3));
        assertGolden("appvm-mail.json", json);
    }

    @Test
    void hvmQube_readOnlyDiskAmongTheFirstFour_movesPastTheEmulatedIdeSlots_writableOnesStay() {
        var spec = new DomainSpec("hvm1", UUID1, DomainSpec.Type.HVM, 256, 256, 1, Optional.of("/k/vmlinuz"),
                Optional.of("/k/initramfs"), "rdinit=/qube-init", List.of(
                        new DomainSpec.Disk("xvda", "/p/root-dirty.img", true),
                        new DomainSpec.Disk("xvdb", "/p/private-dirty.img", true),
                        new DomainSpec.Disk("xvdc", "/p/volatile-dirty.img", true),
                        new DomainSpec.Disk("xvdd", "/k/modules.img", false)), List.of());

        var disks = LibxlDomainConfigs.config(spec, name -> -1).disks();

        assertThat(disks).extracting(d -> d.vdev()).containsExactly("xvda", "xvdb", "xvdc", "xvdh");
        assertThat(disks.get(3).writable()).isFalse();
        assertThat(LibxlDomainConfigs.config(pvh(), name -> 7).disks()).extracting(d -> d.vdev())
                .as("PVH has no emulated disks: names unchanged").contains("xvdd");
    }

    @Test
    void withThePackagesBlockScript_everyDiskIsAttachedByIt_andWithoutIt_byXensDefault() {
        var script = Path.of("/usr/lib/compart/xen/block-loop");

        assertThat(LibxlDomainConfigs.config(pvh(), name -> 7, Optional.of(script)).disks())
                .isNotEmpty().allSatisfy(d -> assertThat(d.script()).contains(script));
        assertThat(LibxlDomainConfigs.config(pvh(), name -> 7).disks())
                .allSatisfy(d -> assertThat(d.script()).isEmpty());
        assertThat(LibxlDomainConfigs.json(pvh(), name -> 7, Optional.of(script)))
                .contains("\"script\": \"/usr/lib/compart/xen/block-loop\"");
    }

    @Test
    void pvhWithoutKernel_andPv_areRefusedWithTheReason() {
        var noKernel = new DomainSpec("x", UUID1, DomainSpec.Type.PVH, 400, 400, 1, Optional.empty(),
                Optional.empty(), "", List.of(), List.of());
        assertThatThrownBy(() -> LibxlDomainConfigs.json(noKernel, n -> 0)).isInstanceOf(CompartException.class)
                .hasMessageContaining("a PVH qube needs a kernel")
                .extracting(e -> ((CompartException) e).kind()).isEqualTo(ErrorKind.INVALID_VALUE);
        var pv = new DomainSpec("x", UUID1, DomainSpec.Type.PV, 400, 400, 1, Optional.of("/k"), Optional.empty(), "",
                List.of(), List.of());
        assertThatThrownBy(() -> LibxlDomainConfigs.json(pv, n -> 0)).hasMessageContaining("virt_mode pv");
    }

    @Test
    void eachDeviceKind_mapsItsFields() {
        var disk = LibxlDomainConfigs.disk(new DomainSpec.Disk("xvdd", "/k/modules.img", false));
        assertThat(disk.writable()).isFalse();
        assertThat(disk.backendDomid()).isZero();
        var nic = LibxlDomainConfigs.nic(new DomainSpec.Nic("sys-net", "00:16:3e:5e:6c:01", "10.137.0.9", "g"), 0, 4);
        assertThat(nic.backendDomid()).isEqualTo(4);
        assertThat(nic.ip()).contains("10.137.0.9");
        assertThat(nic.script()).contains("vif-route-qubes");
    }
}
