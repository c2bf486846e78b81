package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code admin.pool.Add} takes only absolute, normalised directories, and an Add that is refused leaves nothing
 * behind; empty per-qube directories an interrupted remove left are gone after a restart.
 */
class PoolAddPathsTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().withFedoraAndWork();
    final Wire admin = compartd.admin();

    @Test
    void relativeOrDottedDirectory_isRefused_andNothingIsCreated() throws Exception {
        for (String dir : new String[] {"pool-here", "./pool-here", compartd.dir() + "/a/../pool-here"}) {
            assertThat(admin.call("admin.pool.Add", "file-reflink", "dom0", "name=p\ndir_path=" + dir + "\n"))
                    .as(dir).startsWith("2|StoragePoolException||pool p: dir_path must be an absolute path");
        }
        assertThat(Path.of("pool-here")).doesNotExist();
        assertThat(admin.ok("admin.pool.List", "", "dom0", "")).doesNotContain("p\n");
    }

    @Test
    void addRefusedByTheDriver_removesTheDirectoryItMade() throws Exception {
        Path dir = compartd.dir().resolve("new/pool");
        String r = admin.call("admin.pool.Add", "file-reflink", "dom0", "name=p\ndir_path=" + dir
                + "\nrevisions_to_keep=-5\n");
        assertThat(r).startsWith("2|");
        assertThat(compartd.dir().resolve("new")).doesNotExist();
        // the same Add, accepted, creates it
        admin.ok("admin.pool.Add", "file-reflink", "dom0", "name=p\ndir_path=" + dir + "\nsetup_check=no\n");
        assertThat(dir).isDirectory();
    }

    @Test
    void addOfAnExistingName_leavesTheExistingDirectoryAlone() throws Exception {
        Path dir = Files.createDirectories(compartd.dir().resolve("existing"));
        Files.writeString(dir.resolve("keep"), "x");
        assertThat(admin.call("admin.pool.Add", "file-reflink", "dom0", "name=varlibqubes\ndir_path=" + dir + "\n"))
                .startsWith("2|QubesPoolInUseError||");
        assertThat(dir.resolve("keep")).exists();
    }

    @Test
    void emptyQubeDirectories_leftByAnInterruptedRemove_areRemovedAtStart() throws Exception {
        Path pool = compartd.stateDir().resolve("pool");
        Files.createDirectories(pool.resolve("appvms/gone"));
        Files.createDirectories(pool.resolve("vm-templates/gone-too"));
        compartd.restart();
        assertThat(pool.resolve("appvms/gone")).doesNotExist();
        assertThat(pool.resolve("vm-templates/gone-too")).doesNotExist();
        assertThat(pool.resolve("appvms/work")).isDirectory();
        assertThat(admin.call("admin.vm.Start", "", "work", "")).isEqualTo("0|");
    }
}
