package compart.xl.libxl;

import compart.xl.foreign.Gcc;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The pure config-to-libxl-JSON function, against golden files (src/test/resources/golden; regenerate with
 * {@code -Dcompart.golden.update=true} and review the diff), and the dropped-field comparison. That libxl accepts
 * these golden files whole is shown by {@link FakeXenRoundTripTest} with the real libxenlight.
 */
class LibxlJsonTest {
    static final Path GOLDEN = Gcc.MODULE.resolve("src/test/resources/golden");

    static void assertGolden(String file, String actual) throws IOException {
        Path path = GOLDEN.resolve(file);
        if (Boolean.getBoolean("compart.golden.update")) {
            Files.createDirectories(GOLDEN);
            Files.writeString(path, actual, StandardCharsets.UTF_8);
        }
        assertThat(actual).isEqualTo(Files.readString(path, StandardCharsets.UTF_8));
    }

    @Test
    void domainConfig_pvhWithDisksAndRoutedNic_matchesGolden() throws IOException {
        assertGolden("pvh-work-vm.json", LibxlJson.domainConfig(DomainConfigFixtures.pvhWorkVm()));
    }

    @Test
    void domainConfig_hvmWithCdromVncAndEmulatedNic_matchesGolden() throws IOException {
        assertGolden("hvm-win-vm.json", LibxlJson.domainConfig(DomainConfigFixtures.hvmWinVm()));
    }

    @Test
    void domainConfig_hvmDirectKernelBootWithoutGraphics_matchesGolden() throws IOException {
        DomainConfig config = DomainConfigFixtures.hvmTestGuest("hvm-test", Path.of("/boot/vmlinuz"),
                Optional.of(Path.of("/var/lib/xenci/guest-initrd.gz")), Path.of("/var/log/xen/hvm-test-serial.log"))
                .withActions(DomainConfig.OnShutdown.DESTROY, DomainConfig.OnShutdown.DESTROY, DomainConfig.OnShutdown.DESTROY);
        String json = LibxlJson.domainConfig(new DomainConfig(config.name(),
                UUID.fromString("c0ffee00-0000-4000-8000-000000000001"), config.memoryKib(), config.maxMemoryKib(),
                config.vcpus(), config.boot(), config.disks(), config.nics(), config.onPoweroff(), config.onReboot(),
                config.onCrash()));
        assertGolden("hvm-direct-kernel.json", json);
    }

    @Test
    void disk_hotplugJson_withItsScript_matchesGolden() throws IOException {
        assertGolden("disk-xvdc.json", LibxlJson.disk(new DiskConfig(Path.of("/var/lib/vms/work-vm/volatile.img"),
                "xvdc", DiskConfig.Backend.PHY, DiskConfig.Format.RAW, true, false, 0)
                .withScript(Path.of("/usr/lib/compart/xen/block-loop"))));
    }

    @Test
    void nic_hotplugJson_matchesGolden() throws IOException {
        assertGolden("nic-bridged.json", LibxlJson.nic(NicConfig.bridged(1, "00:16:3e:5e:6c:09", "xenbr0")));
    }

    @Test
    void domainConfig_pvh_writesTheKeyedUnionAndEveryVcpuAsAvailable() {
        String json = LibxlJson.domainConfig(DomainConfigFixtures.pvhWorkVm());
        assertThat(json).contains("\"type.pvh\": {}").contains("\"avail_vcpus\": [\n      0,\n      1\n    ]")
                .doesNotContain("\"b_info\": {\n    \"type\"");
    }

    @Test
    void droppedFields_reportsUnknownKeysAndWrongJsonTypes_asLibxlSilentlyDropsThem() {
        String sent = "{\"c_info\":{\"type\":\"pvh\",\"name\":\"x\",\"nmae\":\"typo\"},"
                + "\"b_info\":{\"max_memkb\":\"1048576\",\"target_memkb\":262144,\"type.pvh\":{}}}";
        String kept = "{\"c_info\":{\"type\":\"pvh\",\"name\":\"x\"},\"b_info\":{\"target_memkb\":262144,"
                + "\"sched_params\":{},\"type.pvh\":{},\"arch_arm\":{},\"arch_x86\":{}}}";
        assertThat(LibxlJson.droppedFields(sent, kept)).containsExactly(
                "/c_info/nmae: sent \"typo\", libxl kept nothing",
                "/b_info/max_memkb: sent \"1048576\", libxl kept nothing");
    }

    @Test
    void droppedFields_acceptsDefaultsLibxlLeavesOut_andEnumCaseChanges() {
        String sent = "{\"nics\":[{\"backend_domid\":0,\"mac\":\"00:16:3e:00:00:01\",\"nictype\":\"VIF\"}],"
                + "\"on_poweroff\":\"destroy\",\"on_crash\":\"destroy\",\"b_info\":{\"type.pvh\":{}}}";
        String kept = "{\"nics\":[{\"mac\":\"00:16:3e:00:00:01\",\"nictype\":\"vif\"}],\"b_info\":{\"type.pvh\":{}}}";
        assertThat(LibxlJson.droppedFields(sent, kept)).isEmpty();
    }

    @Test
    void droppedFields_reportsALostArrayElementAndAChangedValue() {
        assertThat(LibxlJson.droppedFields("{\"disks\":[{\"vdev\":\"xvda\"},{\"vdev\":\"xvdb\"}],\"on_reboot\":\"restart\"}",
                "{\"disks\":[{\"vdev\":\"xvda\"}],\"on_reboot\":\"destroy\"}"))
                .containsExactly("/disks: sent 2 elements, libxl kept 1",
                        "/on_reboot: sent \"restart\", libxl kept \"destroy\"");
    }

    @Test
    void domainConfig_rejectsWhatLibxlWouldDropOrRefuseLate() {
        UUID uuid = UUID.randomUUID();
        var boot = new DomainConfig.Boot.Pvh(Path.of("/boot/vmlinuz"), Optional.empty(), "");
        assertThatThrownBy(() -> DomainConfig.of("bad/name", uuid, 262144, 1, boot)).hasMessageContaining("bad/name");
        assertThatThrownBy(() -> DomainConfig.of("vm", uuid, 1024, 1, boot)).hasMessageContaining("16 MiB");
        assertThatThrownBy(() -> DomainConfig.of("vm", uuid, 262144, 0, boot)).hasMessageContaining("vcpus");
        assertThatThrownBy(() -> new DomainConfig.Boot.Pvh(Path.of("vmlinuz"), Optional.empty(), ""))
                .hasMessageContaining("absolute");
        assertThatThrownBy(() -> DomainConfig.of("vm", uuid, 262144, 1, boot).withDisks(List.of(
                DiskConfig.rawPhy(Path.of("/a"), "xvda"), DiskConfig.rawPhy(Path.of("/b"), "xvda"))))
                .hasMessageContaining("two disks with vdev xvda");
        assertThatThrownBy(() -> NicConfig.bridged(0, "00:16:3E:5E:6C:01", "xenbr0")).hasMessageContaining("lower-case");
        assertThatThrownBy(() -> NicConfig.bridged(0, "01:16:3e:5e:6c:01", "xenbr0")).hasMessageContaining("multicast");
        assertThatThrownBy(() -> new DiskConfig(Path.of("/iso"), "hdc", DiskConfig.Backend.QDISK, DiskConfig.Format.RAW,
                true, true, 0)).hasMessageContaining("cannot be writable");
        assertThatThrownBy(() -> new DomainConfig.Boot.Hvm(DomainConfig.Firmware.SEABIOS, Optional.empty(), Optional.empty(),
                "", Optional.empty(), "x", DomainConfig.Vga.STD, Optional.empty())).hasMessageContaining("boot order");
    }

    @Property(tries = 200)
    void domainConfig_anyValidConfig_isJsonThatComparesEqualToItself_withOneEntryPerDevice(
            @ForAll("configs") DomainConfig config) {
        String json = LibxlJson.domainConfig(config);
        assertThat(LibxlJson.droppedFields(json, json)).isEmpty();
        assertThat(json).contains("\"name\": \"" + config.name() + "\"")
                .contains("\"max_vcpus\": " + config.vcpus())
                .contains("\"type." + config.type().jsonName() + "\"");
        assertThat(json.split("\"vdev\"", -1)).hasSize(config.disks().size() + 1);
        assertThat(json.split("\"mac\"", -1)).hasSize(config.nics().size() + 1);
    }

    @Provide
    Arbitrary<DomainConfig> configs() {
        Arbitrary<String> names = Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyz0123456789-").ofMinLength(1)
                .ofMaxLength(30).filter(s -> Character.isLetterOrDigit(s.charAt(0)));
        Arbitrary<Long> memory = Arbitraries.longs().between(16 * 1024, 64L * 1024 * 1024);
        Arbitrary<Integer> vcpus = Arbitraries.integers().between(1, 16);
        Arbitrary<Integer> disks = Arbitraries.integers().between(0, 4);
        Arbitrary<Integer> nics = Arbitraries.integers().between(0, 3);
        Arbitrary<Boolean> hvm = Arbitraries.of(true, false);
        return Combinators.combine(names, memory, vcpus, disks, nics, hvm).as((name, mem, cpus, nDisks, nNics, isHvm) -> {
            DomainConfig.Boot boot = isHvm
                    ? new DomainConfig.Boot.Hvm(DomainConfig.Firmware.OVMF, Optional.empty(), Optional.empty(), "",
                            Optional.empty(), "c", DomainConfig.Vga.STD, Optional.empty())
                    : new DomainConfig.Boot.Pvh(Path.of("/boot/vmlinuz"), Optional.empty(), "quiet");
            List<DiskConfig> diskList = java.util.stream.IntStream.range(0, nDisks)
                    .mapToObj(i -> DiskConfig.rawPhy(Path.of("/var/lib/vms/" + name + "/d" + i), "xvd" + (char) ('a' + i)))
                    .toList();
            List<NicConfig> nicList = java.util.stream.IntStream.range(0, nNics)
                    .mapToObj(i -> NicConfig.bridged(i, String.format("00:16:3e:00:00:%02x", i), "xenbr0")).toList();
            return DomainConfig.of(name, UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)), mem, cpus, boot)
                    .withDisks(diskList).withNics(nicList);
        });
    }
}
