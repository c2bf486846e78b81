package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** PVH guests created with xl: they boot the Debian kernel, see their PV devices, and power off. */
class PvhGuestIT {

    @Test
    void pvhGuest_boots_reportsPvhOnItsConsole_andPowersOff() throws Exception {
        try (var guest = TestGuest.pvh("it-pvh", List.of()).create()) {
            String console = guest.awaitConsole("COMPART-GUEST: poweroff", TestGuest.PVH_BOOT);

            assertThat(console).contains("COMPART-GUEST: up type=PVH");
            guest.awaitGone(Duration.ofMinutes(1));
        }
    }

    @Test
    void pvhGuestWithDiskAndNic_readsTheDiskWrittenInDom0_andSeesItsNic() throws Exception {
        Path disk = Path.of("/var/lib/compart-it/pvh-disk.img");
        Files.createDirectories(disk.getParent());
        String content = "COMPART-DISK-" + UUID.randomUUID();
        try (var file = java.nio.channels.FileChannel.open(disk, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            file.write(java.nio.ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII)));
            file.truncate(32 << 20);
            file.write(java.nio.ByteBuffer.wrap(new byte[1]), (32 << 20) - 1);
        }
        try (var guest = TestGuest.pvh("it-pvh-io", List.of(
                "disk = [ \"format=raw, vdev=xvda, access=rw, target=" + disk + "\" ]",
                "vif = [ \"bridge=xenbr0\" ]")).create()) {
            assertThat(Dom0Host.xl("block-list", guest.name())).contains("51712"); // xvda's device number
            assertThat(Dom0Host.xl("network-list", guest.name()).lines()).hasSize(2);

            String console = guest.awaitConsole("COMPART-GUEST: poweroff", TestGuest.PVH_BOOT);

            assertThat(console).contains("COMPART-GUEST: disk xvda: " + content);
            assertThat(console).containsPattern("COMPART-GUEST: devices block=\\[xvda \\] net=\\[eth0 \\]");
        } finally {
            Files.deleteIfExists(disk);
        }
    }
}
