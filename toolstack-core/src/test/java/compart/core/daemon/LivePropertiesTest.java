package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.Wire;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Qubes' stateless property {@code xid}: the id of the qube's domain while it has one, -1 while halted, 0 for dom0
 * (Qubes' client shows it in qvm-ls's XID column), in Get and GetAll alike.
 */
class LivePropertiesTest {
    @TempDir
    Path dir;
    Compartd.Running daemon;
    Wire admin;

    @BeforeEach
    void start() throws Exception {
        var d = new Compartd();
        d.socket = dir.resolve("qubesd.sock");
        d.stateDir = dir.resolve("state");
        d.hypervisor = "test";
        daemon = d.start();
        admin = new Wire(d.socket);
        admin.ok("admin.vm.Create.TemplateVM", "", "dom0", "name=fedora label=black");
        admin.ok("admin.vm.Create.AppVM", "fedora", "dom0", "name=work label=blue");
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    @Test
    void xid_isTheDomainsIdWhileRunning_minusOneWhenHalted_andZeroForDom0() throws Exception {
        assertThat(admin.ok("admin.vm.property.Get", "xid", "dom0", "")).isEqualTo("default=True type=int 0");
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
