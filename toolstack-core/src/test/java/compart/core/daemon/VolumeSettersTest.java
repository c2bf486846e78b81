package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.ops.VolumeOps;
import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code admin.vm.volume.Clear}, {@code admin.vm.volume.Set.revisions_to_keep}/{@code .rw}/{@code .ephemeral} and
 * {@code admin.pool.Set.revisions_to_keep} on compartd's default pool in a temporary directory (the simulated
 * hypervisor): Qubes' value formats, the change stored and seen by {@code volume.Info}/{@code pool.Info}, kept over
 * a restart; a plain pool added and removed. The refusals of bad values and bad requests (each with Qubes' exception
 * type, nothing stored, the daemon serving on) are rows of {@code admin-api-golden.tsv}.
 */
class VolumeSettersTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().withFedoraAndWork();
    final Wire wire = compartd.admin();

    String info(String volume) throws Exception {
        return wire.ok("admin.vm.volume.Info", volume, "work", "");
    }

    /** Sets a property of work's volume ({@code admin.vm.volume.Set.PROPERTY}). @return the volume's Info after it */
    String set(String property, String volume, String value) throws Exception {
        wire.ok("admin.vm.volume.Set." + property, volume, "work", value);
        return info(volume);
    }

    void importPrivate(byte[] data) throws Exception {
        var head = (data.length + "\n").getBytes(StandardCharsets.US_ASCII);
        var payload = new byte[head.length + data.length];
        System.arraycopy(head, 0, payload, 0, head.length);
        System.arraycopy(data, 0, payload, head.length, data.length);
        assertThat(new String(wire.raw("admin.vm.volume.ImportWithSize", "private", "dom0", "work", payload),
                StandardCharsets.UTF_8)).startsWith("0");
    }

    byte[] exportPrivate() {
        var out = new ByteArrayOutputStream();
        new VolumeOps(compartd.toolstack()).exportVolume("work", "private", out);
        return out.toByteArray();
    }

    void assertServing() throws Exception {
        assertThat(wire.ok("admin.vm.List", "", "dom0", "")).contains("work class=AppVM state=Halted");
    }

    @Test
    void clear_replacesThePrivateImageWithZeros_ofTheSameSize() throws Exception {
        byte[] data = new byte[8192];
        Arrays.fill(data, (byte) 0x5a);
        importPrivate(data);
        assertThat(exportPrivate()).isEqualTo(data);

        wire.ok("admin.vm.volume.Clear", "private", "work", "");

        assertThat(exportPrivate()).hasSize(8192).containsOnly((byte) 0);
        assertThat(info("private")).contains("size=8192\n");
    }

    @Test
    void setRw_acceptsQubesBooleans() throws Exception {
        assertThat(set("rw", "root", "False")).contains("rw=False\n");
        assertThat(set("rw", "root", "yes")).contains("rw=True\n");
        assertThat(set("rw", "root", "0")).contains("rw=False\n");
        assertServing();
    }

    @Test
    void setEphemeral_falseIsStored() throws Exception {
        assertThat(set("ephemeral", "volatile", "False")).contains("ephemeral=False\n");
        assertServing();
    }

    @Test
    void setRevisionsToKeep_parsesNumbersAsQubes() throws Exception {
        assertThat(set("revisions_to_keep", "private", "2")).contains("revisions_to_keep=2\n");
        assertThat(set("revisions_to_keep", "private", "-1")).contains("revisions_to_keep=-1\n");
        wire.ok("admin.vm.volume.Set.revisions_to_keep", "kernel", "work", "0");
        assertThat(info("private")).contains("revisions_to_keep=-1\n");
        assertServing();
    }

    @Test
    void setRevisionsToKeep_turningSnapshotsOnOrOff_needsTheQubeHalted() throws Exception {
        wire.ok("admin.vm.Start", "", "work", "");

        wire.ok("admin.vm.volume.Set.revisions_to_keep", "private", "work", "3");
        assertThat(wire.error("admin.vm.volume.Set.revisions_to_keep", "private", "work", "-1"))
                .isEqualTo("QubesVMNotHaltedError");

        wire.ok("admin.vm.Kill", "", "work", "");
        assertThat(set("revisions_to_keep", "private", "-1")).contains("revisions_to_keep=-1\n");
    }

    @Test
    void poolSetRevisionsToKeep_changesThePoolsDefault() throws Exception {
        wire.ok("admin.pool.Set.revisions_to_keep", "varlibqubes", "dom0", "3");
        assertThat(wire.ok("admin.pool.Info", "varlibqubes", "dom0", "")).contains("revisions_to_keep=3\n");
        assertServing();
    }

    @Test
    void poolAddInfoRemove_ofAPlainPool_leaveTheQubesServed() throws Exception {
        wire.ok("admin.pool.Add", "file", "dom0", "name=plain\ndir_path=" + compartd.dir().resolve("plain"));
        assertThat(wire.ok("admin.pool.Info", "plain", "dom0", "")).contains("driver=file\n").contains("size=");
        wire.ok("admin.pool.Remove", "plain", "dom0", "");
        assertServing();
    }

    @Test
    void settings_surviveARestartOfTheDaemon() throws Exception {
        wire.ok("admin.vm.volume.Set.rw", "root", "work", "False");
        wire.ok("admin.vm.volume.Set.revisions_to_keep", "private", "work", "2");
        wire.ok("admin.pool.Set.revisions_to_keep", "varlibqubes", "dom0", "2");
        compartd.restart();

        assertThat(info("root")).contains("rw=False\n");
        assertThat(info("private")).contains("revisions_to_keep=2\n");
        assertThat(wire.ok("admin.pool.Info", "varlibqubes", "dom0", "")).contains("revisions_to_keep=2\n");
    }
}
