package compart.xenhost;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The small parsers of host files: the mounts table and dpkg's status database. */
class HostFilesTest {

    @Test
    void mountPoints_areReadFromTheMountsTable_withOctalEscapesDecoded() {
        String table = """
                /dev/vda / ext4 rw,relatime 0 0
                proc /work/rootfs/proc proc rw 0 0
                /dev/sdb1 /mnt/my\\040disk ext4 rw 0 0
                """;

        assertThat(ChrootMounts.parseMountPoints(table))
                .containsExactly(Path.of("/"), Path.of("/work/rootfs/proc"), Path.of("/mnt/my disk"));
    }

    @Test
    void mountPointsBelow_aDirectoryWithNothingMounted_isEmpty() {
        assertThat(ChrootMounts.mountPointsBelow(Path.of("/nonexistent/compart-test"))).isEmpty();
    }

    @Test
    void dpkgStatus_givesVersionsOfInstalledPackagesOnly() {
        String status = """
                Package: xen-utils-4.17
                Status: install ok installed
                Version: 4.17.7+13-g2445b30a44-0+deb12u1

                Package: lvm2
                Status: deinstall ok config-files
                Version: 2.03.16-2

                Package: busybox-static
                Status: install ok installed
                Architecture: amd64
                Version: 1:1.35.0-4+deb12u1+b1
                """;

        assertThat(DebianPackages.parseStatus(status))
                .containsExactly(java.util.Map.entry("xen-utils-4.17", "4.17.7+13-g2445b30a44-0+deb12u1"),
                        java.util.Map.entry("busybox-static", "1:1.35.0-4+deb12u1+b1"));
    }

    @Test
    void programLookup_findsSh_andNotAnInventedName() {
        assertThat(Prerequisites.findProgram("sh", "/usr/bin:/bin")).isNotNull();
        assertThat(Prerequisites.findProgram("compart-no-such-program", "/usr/bin:/bin")).isNull();
    }
}
