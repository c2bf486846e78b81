package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Qubes' stateless property {@code xid}: the id of the qube's domain while it has one, -1 while halted (Qubes'
 * client shows it in qvm-ls's XID column), in Get and GetAll alike; dom0 has none, as in Qubes.
 */
class LivePropertiesTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().withFedoraAndWork();
    final Wire admin = compartd.admin();

    @Test
    void xid_isTheDomainsIdWhileRunning_minusOneWhenHalted_andAbsentForDom0() throws Exception {
        assertThat(admin.error("admin.vm.property.Get", "xid", "dom0", "")).isEqualTo("QubesNoSuchPropertyError");
        assertThat(admin.ok("admin.vm.property.Get", "xid", "work", "")).isEqualTo("default=True type=int -1");

        admin.ok("admin.vm.Start", "", "work", "");
        String xid = admin.ok("admin.vm.property.Get", "xid", "work", "");
        assertThat(xid).matches("default=True type=int [1-9][0-9]*");
        assertThat(admin.ok("admin.vm.property.GetAll", "", "work", ""))
                .contains("xid " + xid + "\n");

        admin.ok("admin.vm.Kill", "", "work", "");
        assertThat(admin.ok("admin.vm.property.Get", "xid", "work", "")).isEqualTo("default=True type=int -1");
    }
}
