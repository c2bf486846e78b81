package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A qube the policy does not let call a method learns nothing from its answer: a destination that does not exist
 * is refused exactly as one that exists, as qrexec refuses a call to an unknown target.
 */
class ExistenceHiddenFromQubesTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().withFedoraAndWork().withAppVm("mgmt", "fedora", "red")
            .policy("admin.vm.property.Get +label mgmt @anyvm allow target=dom0\n");
    final Wire wire = compartd.admin();

    @Test
    void refusedCall_toAQubeThatExists_andToOneThatDoesNot_getTheSameAnswer() throws Exception {
        String existing = wire.from("mgmt", "admin.vm.property.Get", "memory", "work", "");
        String missing = wire.from("mgmt", "admin.vm.property.Get", "memory", "no-such-qube", "");
        String badName = wire.from("mgmt", "admin.vm.property.Get", "memory", "uuid:nonsense", "");
        assertThat(existing).isEqualTo("2|PermissionDenied||Request refused|");
        assertThat(missing).isEqualTo(existing);
        assertThat(badName).isEqualTo(existing);
        // even a method the policy allows does not tell an unknown target from a refused one
        assertThat(wire.from("mgmt", "admin.vm.property.Get", "label", "no-such-qube", "")).isEqualTo(existing);
        assertThat(wire.from("mgmt", "admin.vm.property.Get", "label", "work", "")).startsWith("0|");
        // dom0 is told
        assertThat(wire.error("admin.vm.property.Get", "label", "no-such-qube", "")).isEqualTo("QubesVMNotFoundError");
    }
}
