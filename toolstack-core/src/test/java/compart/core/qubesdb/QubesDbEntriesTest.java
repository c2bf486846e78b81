package compart.core.qubesdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import compart.core.model.Inventory;
import compart.core.model.PoolDefinition;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The entries qubesd writes for a qube, and the pushes between two sets of them. */
class QubesDbEntriesTest {
    private static final long NOW = 1_800_000_000L;
    private static final QubesDbEntries.Facts PARIS = new QubesDbEntries.Facts(Optional.of("Europe/Paris"), Set.of(),
            NOW);

    /** dom0, fedora (TemplateVM), sys-net (provides network, no netvm), work (AppVM on sys-net). */
    static Inventory network() {
        var random = new Random(7);
        var inv = Inventory.initial(List.of(new PoolDefinition("varlibqubes", "file-reflink", Map.of("dir_path",
                "/x"))), 16384);
        inv = inv.withNewQube(QubeClass.TemplateVM, "fedora", "black", Optional.empty(), random);
        inv = inv.withGlobalProperty("default_template", "fedora");
        inv = inv.withNewQube(QubeClass.AppVM, "sys-net", "red", Optional.empty(), random);
        inv = inv.withProperty("sys-net", "provides_network", "True");
        inv = inv.withProperty("sys-net", "netvm", "");
        inv = inv.withNewQube(QubeClass.AppVM, "work", "blue", Optional.empty(), random);
        return inv.withProperty("work", "netvm", "sys-net");
    }

    private static SortedMap<String, String> under(SortedMap<String, String> e, String prefix) {
        return e.subMap(prefix, prefix + Character.MAX_VALUE);
    }

    private static QubesDbEntries.Facts up(String... clients) {
        return new QubesDbEntries.Facts(Optional.of("Europe/Paris"), Set.of(clients), NOW);
    }

    @Test
    void anAppVmOnANetQube_getsItsIdentityAndItsNetwork() {
        var inv = network();
        var e = QubesDbEntries.of(inv, "work", PARIS);
        assertThat(e).containsExactlyInAnyOrderEntriesOf(new TreeMap<>(Map.ofEntries(
                entry("/name", "work"), entry("/type", "AppVM"), entry("/default-user", "user"),
                entry("/qubes-vm-updateable", "False"), entry("/qubes-vm-persistence", "rw-only"),
                entry("/qubes-debug-mode", "0"), entry("/qubes-base-template", "fedora"),
                entry("/qubes-mac", "00:16:3e:5e:6c:00"), entry("/qubes-ip", "10.137.0.3"),
                entry("/qubes-netmask", "255.255.255.255"), entry("/qubes-gateway", "10.137.0.2"),
                entry("/qubes-primary-dns", "10.139.1.1"), entry("/qubes-secondary-dns", "10.139.1.2"),
                entry("/qubes-timezone", "Europe/Paris"), entry("/qubes-block-devices", ""),
                entry("/qubes-usb-devices", ""), entry("/qubes-vm-type", "AppVM"),
                entry("/qubes-iptables-error", ""), entry("/qubes-service/meminfo-writer", "1"))));
    }

    @Test
    void theNetworkEntries_agreeWithTheAdminApisProperties() {
        var inv = network();
        var work = inv.qube("work");
        var e = QubesDbEntries.of(inv, "work", PARIS);
        assertThat(e.get("/qubes-ip")).isEqualTo(inv.value(work, "visible_ip").orElseThrow());
        assertThat(e.get("/qubes-gateway")).isEqualTo(inv.value(work, "visible_gateway").orElseThrow());
        assertThat(e.get("/qubes-netmask")).isEqualTo(inv.value(work, "visible_netmask").orElseThrow());
        assertThat(e.get("/qubes-mac")).isEqualTo(inv.value(work, "mac").orElseThrow());
        var net = QubesDbEntries.of(inv, "sys-net", PARIS);
        assertThat(net.get("/qubes-netvm-gateway")).isEqualTo(inv.value(inv.qube("sys-net"), "gateway")
                .orElseThrow());
    }

    @Test
    void aNetQube_getsItsNetvmEntries_andItsClientsAddresses() {
        var e = QubesDbEntries.of(network(), "sys-net", PARIS);
        assertThat(e).contains(entry("/qubes-vm-type", "NetVM"), entry("/qubes-netvm-network", "10.137.0.2"),
                entry("/qubes-netvm-gateway", "10.137.0.2"), entry("/qubes-netvm-netmask", "255.255.255.255"),
                entry("/qubes-netvm-primary-dns", "10.139.1.1"), entry("/qubes-netvm-secondary-dns", "10.139.1.2"),
                entry("/connected-ips", "10.137.0.3"), entry("/connected-ips6", ""));
        assertThat(e).doesNotContainKeys("/qubes-ip", "/qubes-gateway", "/qubes-firewall/10.137.0.3");
    }

    @Test
    void aClientUp_getsItsMappedIpAndFirewall_policyAndNumberedRules_thenTheCompleteSignal() {
        var inv = network().withQube(network().qube("work").withFirewall(List.of(
                "action=accept dst4=192.168.1.0/24 proto=tcp dstports=443-443 comment=the intranet",
                "action=accept expire=1700000000 dst4=10.0.0.1/32",
                "action=accept dst6=2001:db8::1/128",
                "action=accept specialtarget=dns",
                "action=drop")));
        var e = QubesDbEntries.of(inv, "sys-net", up("work"));
        assertThat(under(e, "/mapped-ip/")).containsExactly(
                entry("/mapped-ip/10.137.0.3/visible-gateway", "10.137.0.2"),
                entry("/mapped-ip/10.137.0.3/visible-ip", "10.137.0.3"));
        assertThat(under(e, "/qubes-firewall/")).containsExactly(
                entry("/qubes-firewall/10.137.0.3", ""),
                entry("/qubes-firewall/10.137.0.3/0000", "action=accept dst4=192.168.1.0/24 proto=tcp dstports=443-443"),
                entry("/qubes-firewall/10.137.0.3/0003", "action=accept specialtarget=dns"),
                entry("/qubes-firewall/10.137.0.3/0004", "action=drop"),
                entry("/qubes-firewall/10.137.0.3/policy", "drop"));
    }

    @Test
    void servicesAreZeroOrOne_longNamesSkipped_meminfoWriterFollowsMaxmem() {
        var inv = network();
        var work = inv.qube("work").withFeature("service.crond", "1").withFeature("service.cups", "")
                .withFeature("service." + "s".repeat(49), "1").withFeature("service.meminfo-writer", "")
                .withFeature("vm-config.kbd", "de").withProperty("maxmem", "0");
        var e = QubesDbEntries.of(inv.withQube(work), "work", PARIS);
        assertThat(under(e, "/qubes-service/")).containsExactly(entry("/qubes-service/crond", "1"),
                entry("/qubes-service/cups", "0"), entry("/qubes-service/meminfo-writer", "0"));
        assertThat(e).contains(entry("/vm-config/kbd", "de"));
    }

    @Test
    void anonTimezone_onTheTemplate_leavesTheTimezoneOut_andATemplateIsUpdateable() {
        var inv = network();
        inv = inv.withQube(inv.qube("fedora").withFeature("anon-timezone", "1"));
        assertThat(QubesDbEntries.of(inv, "work", PARIS)).doesNotContainKey("/qubes-timezone");
        var fedora = QubesDbEntries.of(inv, "fedora", PARIS);
        assertThat(fedora).contains(entry("/qubes-vm-updateable", "True"), entry("/qubes-vm-persistence", "full"),
                entry("/qubes-vm-type", "TemplateVM"), entry("/qubes-base-template", ""));
        assertThat(fedora).doesNotContainKeys("/qubes-ip", "/qubes-timezone");
    }

    @Test
    void updates_removeThenWrite_andReloadAChangedFirewallAsQubesdDoes() {
        var inv = network();
        Qube work = inv.qube("work");
        var before = QubesDbEntries.of(inv.withQube(work.withFeature("service.cups", "1")), "sys-net", up("work"));
        var after = QubesDbEntries.of(inv.withQube(work.withFirewall(List.of("action=drop"))), "sys-net",
                up("work"));
        assertThat(QubesDbEntries.updates(before, after)).containsExactly(
                new QdbOp.Remove("/qubes-firewall/10.137.0.3/"),
                new QdbOp.Write("/qubes-firewall/10.137.0.3/0000", "action=drop"),
                new QdbOp.Write("/qubes-firewall/10.137.0.3/policy", "drop"),
                new QdbOp.Write("/qubes-firewall/10.137.0.3", ""));
        assertThat(QubesDbEntries.updates(after, after)).isEmpty();
    }

    @Test
    void updates_ofAServiceFeatureSetThenRemoved_areOneWriteThenOneRemove() {
        var inv = network();
        var plain = QubesDbEntries.of(inv, "work", PARIS);
        var withCups = QubesDbEntries.of(inv.withQube(inv.qube("work").withFeature("service.cups", "1")), "work",
                PARIS);
        assertThat(QubesDbEntries.updates(plain, withCups)).containsExactly(
                new QdbOp.Write("/qubes-service/cups", "1"));
        assertThat(QubesDbEntries.updates(withCups, plain)).containsExactly(new QdbOp.Remove("/qubes-service/cups"));
    }

    @Test
    void updates_ofANetvmChange_rewriteTheClientsNetwork_andRemoveItWhenDisconnected() {
        var inv = network();
        var connected = QubesDbEntries.of(inv, "work", PARIS);
        var offline = QubesDbEntries.of(inv.withProperty("work", "netvm", ""), "work", PARIS);
        assertThat(QubesDbEntries.updates(connected, offline)).containsExactlyInAnyOrder(
                new QdbOp.Remove("/qubes-gateway"), new QdbOp.Remove("/qubes-ip"), new QdbOp.Remove("/qubes-mac"),
                new QdbOp.Remove("/qubes-netmask"), new QdbOp.Remove("/qubes-primary-dns"),
                new QdbOp.Remove("/qubes-secondary-dns"));
    }
}
