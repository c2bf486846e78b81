package compart.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class InventoryTest {
    static final Random RANDOM = new Random(42);

    /** dom0, fedora (TemplateVM), sys-net (provides network), sys-firewall (netvm sys-net), work (AppVM). */
    static Inventory typical() {
        var inv = Inventory.initial(List.of(new PoolDefinition("varlibqubes", "file-reflink", Map.of("dir_path", "/x")),
                new PoolDefinition("linux-kernel", "linux-kernel", Map.of())), 16384);
        inv = inv.withNewQube(QubeClass.TemplateVM, "fedora", "black", Optional.empty(), RANDOM);
        inv = inv.withGlobalProperty("default_template", "fedora");
        inv = inv.withNewQube(QubeClass.AppVM, "sys-net", "red", Optional.empty(), RANDOM);
        inv = inv.withProperty("sys-net", "provides_network", "True");
        inv = inv.withNewQube(QubeClass.AppVM, "sys-firewall", "green", Optional.empty(), RANDOM);
        inv = inv.withProperty("sys-firewall", "provides_network", "True");
        inv = inv.withProperty("sys-firewall", "netvm", "sys-net");
        inv = inv.withProperty("sys-net", "netvm", "");
        inv = inv.withGlobalProperty("default_netvm", "sys-firewall");
        inv = inv.withNewQube(QubeClass.AppVM, "work", "blue", Optional.empty(), RANDOM);
        return inv;
    }

    @Test
    void initial_hasDom0AndTheEightQubesLabels() {
        var inv = Inventory.initial(List.of(), 0);
        assertThat(inv.qubes()).containsOnlyKeys("dom0");
        assertThat(inv.qube("dom0").klass()).isEqualTo(QubeClass.AdminVM);
        assertThat(inv.qube("dom0").qid()).isZero();
        assertThat(inv.labels().values()).extracting(Label::name)
                .containsExactly("red", "orange", "yellow", "green", "gray", "blue", "purple", "black");
        assertThat(inv.label("1").color()).isEqualTo("0xcc0000");
    }

    @Test
    void create_appVm_takesDefaultTemplate_lowestFreeQid_andDefaultVolumes() {
        var inv = typical();
        var work = inv.qube("work");
        assertThat(work.qid()).isEqualTo(4);
        assertThat(inv.value(work, "template")).contains("fedora");
        assertThat(work.volumes()).containsOnlyKeys("root", "private", "volatile", "kernel");
        assertThat(work.volumes().get("root").snapOnStart()).isTrue();
        assertThat(work.volumes().get("root").source()).isEqualTo("vm-templates/fedora/root");
        assertThat(work.volumes().get("private").pool()).isEqualTo("varlibqubes");
    }

    @Test
    void appVm_inheritsFromTemplate_untilSetExplicitly() {
        var inv = typical().withProperty("fedora", "memory", "1000").withProperty("fedora", "virt_mode", "HVM");
        var work = inv.qube("work");
        assertThat(inv.property(work, "memory")).isEqualTo(
                new PropertyValue("memory", PropertyType.INT, true, Optional.of("1000")));
        assertThat(inv.value(work, "virt_mode")).contains("hvm");
        inv = inv.withProperty("work", "memory", "500");
        assertThat(inv.property(inv.qube("work"), "memory").isDefault()).isFalse();
        assertThat(inv.value(inv.qube("work"), "memory")).contains("500");
        inv = inv.withPropertyReset("work", "memory");
        assertThat(inv.value(inv.qube("work"), "memory")).contains("1000");
    }

    @Test
    void propertyCatalog_readsItsTables_continuedHelpLinesJoinedWithOneSpace() {
        assertThat(PropertyCatalog.of(QubeClass.AppVM).get("qid")).isEqualTo(new PropertyDef("qid", PropertyType.INT,
                false, "Internal, persistent identifier of particular domain. Note this is different from Xen domid."));
        assertThat(PropertyCatalog.of(QubeClass.DispVM).get("auto_cleanup")).isEqualTo(new PropertyDef(
                "auto_cleanup", PropertyType.BOOL, true, "automatically remove this qube upon shutdown"));
        assertThat(PropertyCatalog.global().get("default_pool_kernel").help())
                .isEqualTo("Default storage pool for kernel volumes");
        assertThat(List.of(QubeClass.AdminVM, QubeClass.TemplateVM, QubeClass.AppVM, QubeClass.StandaloneVM,
                QubeClass.DispVM)).extracting(k -> PropertyCatalog.of(k).size()).containsExactly(11, 47, 48, 47, 50);
        assertThat(PropertyCatalog.global()).hasSize(18);
        assertThat(PropertyCatalog.of(QubeClass.AppVM).keySet()).startsWith("name", "qid", "uuid", "klass", "label");
    }

    /** Asserts the value of each property of {@code qube}: a name, then its value (null: no value), and so on. */
    static void assertValues(Inventory inv, String qube, String... nameThenValue) {
        var q = inv.qube(qube);
        for (int i = 0; i < nameThenValue.length; i += 2) {
            assertThat(inv.value(q, nameThenValue[i])).as("%s of %s", nameThenValue[i], qube)
                    .isEqualTo(Optional.ofNullable(nameThenValue[i + 1]));
        }
    }

    @Test
    void defaults_matchQubes() {
        var inv = typical();
        assertValues(inv, "work", "vcpus", "2", "memory", "400", "maxmem", "4000", "virt_mode", "pvh",
                "default_user", "user", "qrexec_timeout", "60", "include_in_backups", "True", "updateable", "False",
                "netvm", "sys-firewall", "icon", "appvm-blue");
        assertValues(inv, "fedora", "updateable", "True", "netvm", null);
        assertThat(inv.globalValue("default_pool")).contains("varlibqubes");
        assertThat(inv.globalValue("default_pool_kernel")).contains("linux-kernel");
    }

    @Test
    void addresses_derivedFromQid_asQubesDoes() {
        var inv = typical();
        assertValues(inv, "work", "ip", "10.137.0.4", "mac", "00:16:3e:5e:6c:00", "visible_gateway", "10.137.0.3",
                "visible_netmask", "255.255.255.255", "dns", "10.139.1.1 10.139.1.2");
        assertValues(inv, "sys-firewall", "gateway", "10.137.0.3");
        assertValues(inv, "fedora", "ip", null);
        assertThat(Addresses.ipv4("10.137", 254)).isEqualTo("10.137.0.254");
        assertThat(Addresses.ipv4("10.137", 255)).isEqualTo("10.137.1.1");
        assertThat(Addresses.ipv4("10.137", 256)).isEqualTo("10.137.1.2");
        assertThat(Addresses.ipv4("10.137", 508)).isEqualTo("10.137.1.254");
        assertThat(Addresses.ipv4("10.137", 509)).isEqualTo("10.137.2.1");
    }

    @Test
    void dispVm_needsTemplateForDispvms_andGetsIpFromDispid() {
        var inv = typical();
        var before = inv;
        assertThatThrownBy(() -> before.withNewQube(QubeClass.DispVM, "disp1", "red", Optional.of("work"), RANDOM))
                .hasMessageContaining("template_for_dispvms");
        inv = inv.withProperty("work", "template_for_dispvms", "yes");
        inv = inv.withNewQube(QubeClass.DispVM, "disp1", "red", Optional.of("work"), RANDOM);
        var d = inv.qube("disp1");
        assertThat(inv.value(d, "ip")).contains(Addresses.ipv4("10.138", d.dispid()));
        assertThat(inv.value(d, "default_dispvm")).contains("work");
        assertThat(inv.value(d, "include_in_backups")).contains("True");
        inv = inv.withProperty("disp1", "auto_cleanup", "True");
        assertThat(inv.value(inv.qube("disp1"), "include_in_backups")).contains("False");
        var withDisp = inv;
        assertThatThrownBy(() -> withDisp.withProperty("work", "template_for_dispvms", "False"))
                .hasMessageContaining("template_for_dispvms");
    }

    @Test
    void netvm_mustProvideNetwork() {
        var inv = typical();
        assertThatThrownBy(() -> inv.withProperty("work", "netvm", "fedora"))
                .isInstanceOf(CompartException.class).hasMessageContaining("does not provide network")
                .extracting(e -> ((CompartException) e).kind()).isEqualTo(ErrorKind.INVALID_VALUE);
        assertThatThrownBy(() -> inv.withProperty("work", "netvm", "dom0"))
                .hasMessageContaining("does not provide network");
    }

    @Test
    void netvm_loops_areRefused_directAndThroughDefault() {
        var inv = typical();
        assertThatThrownBy(() -> inv.withProperty("sys-net", "netvm", "sys-firewall"))
                .hasMessageContaining("Loops");
        assertThatThrownBy(() -> inv.withProperty("sys-net", "netvm", "sys-net")).hasMessageContaining("Loops");
        // sys-firewall gets the default netvm, which is sys-firewall itself
        assertThatThrownBy(() -> inv.withPropertyReset("sys-firewall", "netvm")).hasMessageContaining("Loops");
    }

    @Test
    void providesNetwork_cannotBeTurnedOff_whileQubesUseIt() {
        var inv = typical();
        assertThatThrownBy(() -> inv.withProperty("sys-firewall", "provides_network", "False"))
                .hasMessageContaining("does not provide network");
    }

    @Test
    void badValues_areRefused_withTheReason() {
        var inv = typical();
        assertThatThrownBy(() -> inv.withProperty("work", "memory", "-5")).hasMessageContaining("positive");
        assertThatThrownBy(() -> inv.withProperty("work", "memory", "lots")).hasMessageContaining("int");
        assertThatThrownBy(() -> inv.withProperty("work", "vcpus", "0")).hasMessageContaining("positive");
        assertThatThrownBy(() -> inv.withProperty("work", "debug", "maybe")).hasMessageContaining("boolean");
        assertThatThrownBy(() -> inv.withProperty("work", "virt_mode", "kvm")).hasMessageContaining("hvm, pv, pvh");
        assertThatThrownBy(() -> inv.withProperty("work", "kernel", "../etc")).hasMessageContaining("'/'");
        assertThatThrownBy(() -> inv.withProperty("work", "mac", "zz:00")).hasMessageContaining("MAC");
        assertThatThrownBy(() -> inv.withProperty("work", "ip", "10.0.0.300")).hasMessageContaining("IPv4");
        assertThatThrownBy(() -> inv.withProperty("work", "label", "pink")).hasMessageContaining("Label");
        assertThatThrownBy(() -> inv.withProperty("work", "netvm", "nosuch")).hasMessageContaining("non-existing");
        assertThatThrownBy(() -> inv.withProperty("work", "template", "work"))
                .hasMessage("wrong VM class: domains['work'] is of type AppVM and not TemplateVM");
        assertThatThrownBy(() -> inv.withProperty("work", "qid", "7")).hasMessageContaining("cannot be set");
        assertThatThrownBy(() -> inv.withProperty("work", "nosuch", "1"))
                .extracting(e -> ((CompartException) e).kind()).isEqualTo(ErrorKind.NOT_FOUND);
        assertThatThrownBy(() -> inv.withPropertyReset("work", "template")).hasMessageContaining("unset template");
        assertThatThrownBy(() -> inv.withGlobalProperty("default_pool", "nosuch")).hasMessageContaining("pool");
        assertThatThrownBy(() -> inv.withGlobalProperty("default_template", "work"))
                .hasMessageContaining("TemplateVM");
        assertThatThrownBy(() -> inv.withGlobalProperty("default_dispvm", "work"))
                .hasMessageContaining("template_for_dispvms");
    }

    @Test
    void values_areCanonicalised() {
        var inv = typical().withProperty("work", "debug", "YES").withProperty("work", "virt_mode", "HVM")
                .withProperty("work", "label", "3").withProperty("work", "memory", "0400");
        var work = inv.qube("work");
        assertThat(inv.value(work, "debug")).contains("True");
        assertThat(inv.value(work, "virt_mode")).contains("hvm");
        assertThat(inv.value(work, "label")).contains("yellow");
        assertThat(inv.value(work, "memory")).contains("400");
    }

    @Test
    void templateInUse_cannotBeRemoved_norDefaultsInUse() {
        var inv = typical();
        assertThatThrownBy(() -> inv.withoutQube("fedora")).hasMessageContaining("in use")
                .hasMessageContaining("work:template").extracting(e -> ((CompartException) e).kind())
                .isEqualTo(ErrorKind.INVALID_STATE);
        assertThatThrownBy(() -> inv.withoutQube("sys-firewall")).hasMessageContaining("@GLOBAL:default_netvm");
        assertThatThrownBy(() -> inv.withoutQube("dom0")).hasMessageContaining("dom0");
        var without = inv.withoutQube("work");
        assertThat(without.find("work")).isEmpty();
    }

    @Test
    void create_refusesDuplicatesBadNamesAndUnknownLabels() {
        var inv = typical();
        assertThatThrownBy(() -> inv.withNewQube(QubeClass.AppVM, "work", "red", Optional.empty(), RANDOM))
                .hasMessage("VM work already exists") // Qubes' words and class (QubesValueError)
                .extracting(e -> ((CompartException) e).kind()).isEqualTo(ErrorKind.INVALID_VALUE);
        for (var bad : List.of("", "1abc", "-x", "a b", "none", "default", "x-dm", "Domain-0", "a".repeat(32),
                "ä")) {
            assertThatThrownBy(() -> inv.withNewQube(QubeClass.AppVM, bad, "red", Optional.empty(), RANDOM))
                    .as(bad).extracting(e -> ((CompartException) e).kind()).isEqualTo(ErrorKind.INVALID_VALUE);
        }
        assertThatThrownBy(() -> inv.withNewQube(QubeClass.AppVM, "x", "pink", Optional.empty(), RANDOM))
                .extracting(e -> ((CompartException) e).kind()).isEqualTo(ErrorKind.NOT_FOUND);
        assertThatThrownBy(() -> inv.withNewQube(QubeClass.AppVM, "x", "red", Optional.of("nosuch"), RANDOM))
                .extracting(e -> ((CompartException) e).kind()).isEqualTo(ErrorKind.NOT_FOUND);
        assertThatThrownBy(() -> inv.withNewQube(QubeClass.AdminVM, "x", "red", Optional.empty(), RANDOM))
                .isInstanceOf(CompartException.class);
    }

    @Test
    void featuresTagsAndLabels() {
        var inv = typical().withFeature("fedora", "os", "Linux").withTag("work", "audited", true);
        var work = inv.qube("work");
        assertThat(inv.checkFeature(work, "os", true, false, false)).contains("Linux");
        assertThat(inv.checkFeature(work, "os", false, false, false)).isEmpty();
        assertThat(work.tags()).contains("audited");
        var inv2 = inv;
        assertThatThrownBy(() -> inv2.withTag("work", "bad tag", true)).isInstanceOf(CompartException.class);
        assertThatThrownBy(() -> inv2.withTag("work", "absent", false))
                .extracting(e -> ((CompartException) e).kind()).isEqualTo(ErrorKind.NOT_FOUND);
        inv = inv.withLabel("pink", "0xff00ff");
        assertThat(inv.label("pink").index()).isEqualTo(9);
        inv = inv.withProperty("work", "label", "pink");
        var inv3 = inv;
        assertThatThrownBy(() -> inv3.withoutLabel("pink")).hasMessageContaining("in use");
        assertThatThrownBy(() -> inv3.withoutLabel("red")).hasMessageContaining("custom");
        // maxmem follows memory * 10 for Linux qubes
        assertThat(inv.value(inv.qube("fedora"), "maxmem")).contains("4000");
    }

    @Test
    void repaired_resetsDanglingReferences_andDropsOrphans() {
        var inv = typical();
        var q = inv.qube("work").withProperty("netvm", "gone");
        var m = new TreeMap<>(inv.qubes());
        m.put("work", q);
        m.remove("fedora");
        var broken = new Inventory(inv.labels(), inv.globals(), m, inv.pools(), 0);
        assertThat(broken.violations()).isNotEmpty();
        var log = new ArrayList<String>();
        var fixed = broken.repaired(log);
        assertThat(fixed.violations()).isEmpty();
        assertThat(fixed.find("work")).isEmpty(); // its template is gone
        assertThat(fixed.globals()).doesNotContainKey("default_template");
        assertThat(log).isNotEmpty();
    }
}
