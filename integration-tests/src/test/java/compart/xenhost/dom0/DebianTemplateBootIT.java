package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Debian 12 guest template built from Qubes' own guest software boots as a Qubes qube does, started with
 * {@code xl create} (no compartd): PVH, dom0's kernel with our initramfs, root from xvda, private xvdb, volatile
 * xvdc, modules xvdd; systemd starts the upstream Qubes units. Without a QubesDB server in dom0 the upstream
 * {@code qubesdb-daemon} waits for one (its unit times out), which this test shows rather than hides.
 */
class DebianTemplateBootIT {
    static final Duration BOOT = Duration.ofMinutes(12);

    @Test
    void debianTemplate_bootsPvhFromXvda_andSystemdStartsTheQubesUnits() throws Exception {
        Path dir = DebianTemplateFiles.require();
        Path work = Files.createDirectories(Path.of("/var/lib/compart-it/debian-boot"));
        long c0 = System.nanoTime();
        Path root = DebianTemplateFiles.copy(dir, "root.img", work.resolve("root.img"));
        Path modules = DebianTemplateFiles.copy(dir, "modules.img", work.resolve("modules.img"));
        Path kernel = DebianTemplateFiles.copy(dir, "vmlinuz", work.resolve("vmlinuz"));
        Path initramfs = DebianTemplateFiles.copy(dir, "initramfs", work.resolve("initramfs"));
        Path privateVolume = DebianTemplateFiles.emptyVolume(work.resolve("private.img"), 256);
        Path volatileVolume = DebianTemplateFiles.emptyVolume(work.resolve("volatile.img"), 512);
        System.out.printf("COMPART-XENHOST: debian template: copied out of the share in %.1f s%n",
                (System.nanoTime() - c0) / 1e9);
        try (var guest = TestGuest.pvh("it-debian", kernel, initramfs, DebianTemplateFiles.KERNEL_ARGUMENTS, List.of(
                "disk = [ \"format=raw, vdev=xvda, access=rw, target=" + root + "\", "
                        + "\"format=raw, vdev=xvdb, access=rw, target=" + privateVolume + "\", "
                        + "\"format=raw, vdev=xvdc, access=rw, target=" + volatileVolume + "\", "
                        + "\"format=raw, vdev=xvdd, access=ro, target=" + modules + "\" ]",
                "vif = [ \"bridge=xenbr0\" ]"))) {
            long t0 = System.nanoTime();
            guest.create();
            String console = guest.awaitConsole("COMPART-QUBE: qdb-end", BOOT);
            double up = (System.nanoTime() - t0) / 1e9;
            System.out.printf("COMPART-XENHOST: debian template: xl create -> systemd up and reported: %.1f s%n", up);
            console.lines().filter(l -> l.contains("COMPART-QUBE") || l.contains("qubes") || l.contains("Qubes"))
                    .forEach(l -> System.out.println("  | " + l));

            assertThat(console).contains("COMPART-QUBE-INIT: kernel").contains("type=PVH")
                    .contains("COMPART-QUBE-INIT: modules").contains("COMPART-QUBE-INIT: root xvda mounted")
                    .contains(DebianTemplateFiles.UP);
            assertThat(console).as("systemd started the upstream units").contains("Qubes DB agent")
                    .contains("Init Qubes Services settings");
            assertThat(console).containsPattern("COMPART-QUBE: modules .*xen_privcmd");

            long s0 = System.nanoTime();
            Dom0Host.xl("shutdown", guest.name());
            guest.awaitGone(Duration.ofMinutes(5));
            System.out.printf("COMPART-XENHOST: debian template: xl shutdown -> gone: %.1f s%n",
                    (System.nanoTime() - s0) / 1e9);
        } finally {
            Dom0Host.run(List.of("rm", "-rf", work.toString()), Duration.ofMinutes(1));
        }
    }
}
