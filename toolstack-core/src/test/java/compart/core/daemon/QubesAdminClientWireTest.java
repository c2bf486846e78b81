package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Requests exactly as Qubes' own Python admin client (qubesadmin, the library behind its {@code qvm-*} tools) sends
 * them, byte for byte as recorded between its tools and compartd, and the replies it needs: the wire
 * incompatibilities found by running qubesadmin's tools unchanged against compartd stay fixed.
 *
 * <p>Recorded with a logging proxy on the socket while running {@code python3 -m qubesadmin.tools.qvm_firewall work
 * add accept dsthost=1.2.3.4 proto=tcp dstports=443} (the client turns the address into {@code dst4=1.2.3.4/32})
 * and {@code qvm_ls --format disk} (ROOT-MAX of an AppVM is its root volume's size, which qubesd copies from the
 * template's root).
 */
class QubesAdminClientWireTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor()
            .withTemplate("fedora", "black")
            .withAppVm("work", "fedora", "red");
    final Wire wire = compartd.admin();

    /** Sends the request's bytes as recorded (header, NUL, payload) and returns the reply with NULs shown as |. */
    String replay(String requestWithNuls) throws Exception {
        String head = requestWithNuls.substring(0, requestWithNuls.indexOf('\0'));
        assertThat(head.split(" ")).as("qubesadmin's header: METHOD+ARG dom0 name DEST").hasSize(4);
        return new String(wire.send(requestWithNuls.getBytes(StandardCharsets.US_ASCII)), StandardCharsets.UTF_8)
                .replace('\0', '|');
    }

    /** Sets work's firewall to {@code rules} as qubesadmin does; then {@code firewall.Get} answers {@code answered}. */
    void assertRulesAnsweredAs(String rules, String answered) throws Exception {
        assertThat(replay("admin.vm.firewall.Set+ dom0 name work\0" + rules)).isEqualTo("0|");
        assertThat(replay("admin.vm.firewall.Get+ dom0 name work\0")).isEqualTo("0|" + answered);
    }

    @Test
    void firewallSet_fromQvmFirewallAdd_acceptsDst4AndGetAnswersQubesOrder() throws Exception {
        assertThat(replay("admin.vm.firewall.Get+ dom0 name work\0")).isEqualTo("0|action=accept\n");

        assertRulesAnsweredAs("action=accept\naction=accept proto=tcp dst4=1.2.3.4/32 dstports=443-443\n",
                "action=accept\naction=accept dst4=1.2.3.4/32 proto=tcp dstports=443-443\n");
    }

    @Test
    void firewallSet_bareAddressesAndSinglePorts_areAnsweredInCanonicalForm() throws Exception {
        assertRulesAnsweredAs("""
                action=accept dsthost=10.1.2.3 proto=udp dstports=53
                action=accept dst6=2001:abcd:efab::3 proto=tcp dstports=22-22
                action=accept dst6=2001:abcd:efab::/64
                action=accept dstname=updates.example.org specialtarget=dns
                action=drop proto=icmp icmptype=008 comment=No ping; really
                action=drop
                """, """
                action=accept dst4=10.1.2.3/32 proto=udp dstports=53-53
                action=accept dst6=2001:abcd:efab::3/128 proto=tcp dstports=22-22
                action=accept dst6=2001:abcd:efab::/64
                action=accept dsthost=updates.example.org specialtarget=dns
                action=drop proto=icmp icmptype=8 comment=No ping; really
                action=drop
                """);
    }

    @Test
    void firewallGet_leavesOutExpiredRules_likeQubesd() throws Exception {
        assertRulesAnsweredAs("""
                action=accept proto=tcp dstports=1-1024
                action=drop proto=icmp comment=No ICMP
                action=drop expire=1499450306 proto=udp
                action=drop proto=udp expire=2099450306
                action=accept
                """, """
                action=accept proto=tcp dstports=1-1024
                action=drop proto=icmp comment=No ICMP
                action=drop expire=2099450306 proto=udp
                action=accept
                """);
    }

    @Test
    void firewallSet_rulesQubesdRefuses_areRefusedAndTheOldRulesKept() throws Exception {
        for (String bad : List.of(
                "action=accept protoxyz=tcp dst4=127.0.0.1\naction=drop\n",
                "proto=tcp dstports=1-1024\naction=drop\n",
                "action=accept dstports=80\n",
                "action=accept proto=icmp dstports=80\n",
                "action=accept proto=tcp icmptype=8\n",
                "action=accept dst4=1.2.3.4/33\n",
                "action=accept dst6=::1/129\n",
                "action=accept dst4=1.2.3.4/32 dsthost=example.org\n",
                "action=accept dsthost=Example.org\n",
                "action=accept dsthost=10.0.0.1/8/8\n",
                "action=accept proto=tcp dstports=80-22\n",
                "action=accept proto=tcp dstports=70000\n",
                "action=accept proto=icmp icmptype=256\n",
                "action=accept expire=soon\n",
                "action=accept comment=no <tags>\n",
                "action=accept  proto=tcp\n",
                "action=maybe\n")) {
            assertThat(replay("admin.vm.firewall.Set+ dom0 name work\0" + bad)).as(bad)
                    .matches("2\\|(ProtocolError|QubesValueError)\\|\\|.+\\|");
        }
        assertThat(replay("admin.vm.firewall.Get+ dom0 name work\0")).isEqualTo("0|action=accept\n");
    }

    @Test
    void volumeInfo_appVmRoot_reportsItsTemplateRootSize_asQvmLsRootMaxNeeds() throws Exception {
        String template = replay("admin.vm.volume.Info+root dom0 name fedora\0");
        String app = replay("admin.vm.volume.Info+root dom0 name work\0");

        assertThat(template).contains("\nsize=10737418240\n");
        assertThat(app).startsWith("0|pool=varlibqubes\nvid=appvms/work/root\nsize=10737418240\n")
                .contains("\nsource=vm-templates/fedora/root\n", "\nsnap_on_start=True\n");
    }

    @Test
    void volumeInfo_appVmRoot_followsAResizeOfTheTemplateRoot() throws Exception {
        wire.ok("admin.vm.volume.Resize", "root", "fedora", "32212254720");

        assertThat(replay("admin.vm.volume.Info+root dom0 name work\0")).contains("\nsize=32212254720\n");
        assertThat(replay("admin.vm.volume.Info+private dom0 name work\0")).contains("\nsize=2147483648\n");
    }
}
