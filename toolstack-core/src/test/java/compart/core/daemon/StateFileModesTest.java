package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.TestDaemon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The qubes' configuration and images are for dom0's admins whatever the umask compartd runs with (the tests run
 * with the usual 022, which would make them world-readable): files 0660, the state directory 0770.
 */
class StateFileModesTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().withFedoraAndWork();

    static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void stateFilesAndImages_areOwnerAndGroupOnly() throws Exception {
        compartd.admin().ok("admin.vm.Start", "", "work", "");
        Path state = compartd.stateDir();
        assertThat(mode(state)).isEqualTo("rwxrwx---");
        assertThat(mode(state.resolve("qubes"))).isEqualTo("rwxrwx---");
        try (Stream<Path> all = Files.walk(state)) {
            var files = all.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().endsWith(".lock"))
                    .toList();
            assertThat(files).extracting(p -> state.relativize(p).toString())
                    .contains("system.json", "qubes/work.json", "pool/appvms/work/private.img",
                            "pool/appvms/work/private-dirty.img", "pool/vm-templates/fedora/root.img");
            for (Path f : files) {
                assertThat(mode(f)).as(state.relativize(f).toString()).isEqualTo("rw-rw----");
            }
        }
    }
}
