package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Bad input to every volume and pool method, on compartd's default pool in a temporary directory (the plain-copy
 * fallback where it cannot reflink): each gets Qubes' exception type and the daemon keeps serving.
 */
class VolumeMethodsBadInputTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().withFedoraAndWork();
    final Wire wire = compartd.admin();

    @Test
    void unknownQubeOrVolume_isRefusedForEveryVolumeMethod() throws Exception {
        for (String m : List.of("admin.vm.volume.Info", "admin.vm.volume.ListSnapshots", "admin.vm.volume.CloneFrom")) {
            assertThat(wire.error(m, "private", "nope", "")).as(m).isEqualTo("QubesVMNotFoundError");
            assertThat(wire.error(m, "nope", "work", "")).as(m).isEqualTo("PermissionDenied");
        }
        for (String m : List.of("admin.vm.volume.Revert", "admin.vm.volume.Resize", "admin.vm.volume.CloneTo",
                "admin.vm.volume.Set.revisions_to_keep")) {
            assertThat(wire.error(m, "private", "nope", "1")).as(m).isEqualTo("QubesVMNotFoundError");
            assertThat(wire.error(m, "nope", "work", "1")).as(m).isEqualTo("PermissionDenied");
            assertThat(wire.error(m, "private", "work", "")).as(m + " without payload").isEqualTo("ProtocolError");
            assertThat(wire.error(m, "", "work", "1")).as(m + " without argument").isEqualTo("ProtocolError");
        }
        assertThat(wire.error("admin.vm.volume.List", "", "nope", "")).isEqualTo("QubesVMNotFoundError");
        assertThat(wire.error("admin.vm.volume.Resize", "private", "dom0", "4096")).isEqualTo("ProtocolError");
        assertThat(wire.ok("admin.vm.volume.List", "", "work", "")).isEqualTo("kernel\nprivate\nroot\nvolatile\n");
    }

    @Test
    void badValues_areRefusedWithQubesValueErrorOrPermissionDenied() throws Exception {
        assertThat(wire.error("admin.vm.volume.Revert", "private", "work", "000001")).isEqualTo("QubesException");
        assertThat(wire.error("admin.vm.volume.Revert", "private", "work", "../x")).isEqualTo("QubesValueError");
        assertThat(wire.error("admin.vm.volume.Set.revisions_to_keep", "private", "work", "-5"))
                .isEqualTo("QubesValueError");
        assertThat(wire.error("admin.vm.volume.CloneTo", "private", "work", "0123")).isEqualTo("PermissionDenied");
        assertThat(wire.error("admin.vm.volume.CloneFrom", "root", "work", "")).isEqualTo("QubesValueError");
        wire.ok("admin.vm.volume.Set.revisions_to_keep", "private", "work", "3");
        assertThat(wire.ok("admin.vm.volume.Info", "private", "work", "")).contains("revisions_to_keep=3\n");
    }

    @Test
    void poolMethods_refuseUnknownDriversPoolsAndPoolsInUse() throws Exception {
        assertThat(wire.error("admin.pool.Add", "nodriver", "dom0", "name=x\ndir_path=/tmp/x")).isEqualTo("PermissionDenied");
        assertThat(wire.error("admin.pool.Add", "file-reflink", "dom0", "dir_path=/tmp/x")).isEqualTo("ProtocolError");
        assertThat(wire.error("admin.pool.Add", "file-reflink", "dom0", "name=varlibqubes\ndir_path=/tmp/x"))
                .isEqualTo("QubesPoolInUseError");
        assertThat(wire.error("admin.pool.Info", "nope", "dom0", "")).isEqualTo("PermissionDenied");
        assertThat(wire.error("admin.pool.UsageDetails", "nope", "dom0", "")).isEqualTo("PermissionDenied");
        assertThat(wire.error("admin.pool.Remove", "varlibqubes", "dom0", "")).isEqualTo("QubesPoolInUseError");
        wire.ok("admin.pool.Add", "file", "dom0", "name=plain\ndir_path=" + compartd.dir().resolve("plain"));
        assertThat(wire.ok("admin.pool.Info", "plain", "dom0", "")).contains("driver=file\n").contains("size=");
        wire.ok("admin.pool.Remove", "plain", "dom0", "");
        assertThat(wire.ok("admin.vm.List", "", "dom0", "")).contains("work class=AppVM state=Halted");
    }
}
