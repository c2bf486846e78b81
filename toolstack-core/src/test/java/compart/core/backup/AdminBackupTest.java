package compart.core.backup;

import static compart.core.backup.BackupFormatTest.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * compartd's {@code admin.backup.*}: a profile in Qubes' format names the qubes, the destination and the
 * passphrase; Execute writes the backup (read back by our reader, the volume byte for byte), Info shows Qubes'
 * summary table, Cancel without a running backup is refused with Qubes' words.
 */
class AdminBackupTest {

    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().withFedoraAndWork().startedByTheTest();

    @TempDir
    Path dir;

    @AfterEach
    void forgetProfiles() {
        System.clearProperty("compart.backup.profiles");
    }

    @Test
    void executeBacksUpTheProfilesQubesWithTheirCommittedVolumesAndQubesXml() throws Exception {
        Path profiles = Files.createDirectories(dir.resolve("profiles"));
        System.setProperty("compart.backup.profiles", profiles.toString());
        compartd.start();
        Wire admin = compartd.admin();
        byte[] data = BackupFixtures.volume();
        byte[] withSize = concat((data.length + "\n").getBytes(StandardCharsets.US_ASCII), data);
        assertThat(new String(admin.raw("admin.vm.volume.ImportWithSize", "private", "dom0", "work", withSize),
                StandardCharsets.US_ASCII)).isEqualTo("0\0");
        admin.ok("admin.vm.feature.Set", "service.crond", "work", "1");
        admin.ok("admin.vm.tag.Set", "backed-up-by-test", "work", "");
        Path target = dir.resolve("backup.bin");
        Files.writeString(profiles.resolve("nightly.conf"), """
                compression: true
                destination_path: %s
                destination_vm: dom0
                include:
                - work
                passphrase_text: pass phrase
                """.formatted(target));

        String summary = admin.ok("admin.backup.Info", "nightly", "dom0", "");
        assertThat(summary).contains("               VM |         type |         size |")
                .contains("             work |           VM |      3.0 MiB |")
                .endsWith("VMs not selected for backup:\n - dom0\n - fedora\n");

        admin.ok("admin.backup.Execute", "nightly", "dom0", "");

        BackupReader reader = new BackupReader(target, "pass phrase".getBytes(StandardCharsets.UTF_8),
                BackupReader.DEFAULT_SCRYPT_LIMIT);
        BackupReader.Contents contents = reader.verify();
        assertThat(contents.manifest().qubes()).singleElement().satisfies(q -> {
            assertThat(q.name()).isEqualTo("work");
            assertThat(q.klass()).isEqualTo("AppVM");
            assertThat(q.volumes()).containsExactly("private");
        });
        String xml = new String(contents.qubesXml(), StandardCharsets.UTF_8);
        assertThat(xml).contains("<feature name=\"service.crond\">1</feature>")
                .contains("<tag name=\"backed-up-by-test\"/>").contains("<property name=\"template\">fedora</property>");
        String path = contents.manifest().qubes().getFirst().backupPath();
        Map<String, ByteArrayOutputStream> out = new TreeMap<>();
        reader.extract(contents, f -> out.computeIfAbsent(f.name(), n -> new ByteArrayOutputStream()));
        assertThat(sha256(out.get(path + "private.img").toByteArray())).isEqualTo(sha256(data));
        assertThat(admin.property("work", "backup_timestamp")).matches("[1-9][0-9]+");
    }

    @Test
    void aMissingProfileAndACancelWithoutABackupAreRefusedWithQubesWords() throws Exception {
        System.setProperty("compart.backup.profiles", dir.toString());
        compartd.start();
        Wire admin = compartd.admin();
        assertThat(admin.call("admin.backup.Execute", "none", "dom0", ""))
                .isEqualTo("2|PermissionDenied||Backup profile none does not exist|");
        assertThat(admin.call("admin.backup.Cancel", "none", "dom0", ""))
                .isEqualTo("2|QubesException||Backup operation not running|");
        Files.writeString(dir.resolve("toqube.conf"), """
                destination_path: /home/user
                destination_vm: work
                include: null
                passphrase_text: x
                """);
        assertThat(admin.call("admin.backup.Execute", "toqube", "dom0", ""))
                .startsWith("2|QubesException||").contains("dom0 only");
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = new byte[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
