package compart.cli.command;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qvm-backup} against a real compartd in this JVM: the profile it writes from its options, compartd's summary,
 * the backup file in Qubes' layout, the temporary profile gone afterwards; Qubes' messages and exit codes for a
 * missing location and a missing profile.
 */
class QvmBackupTest {
    @TempDir
    Path dir;

    private CliTestDaemon daemon;
    private Path profiles;

    @BeforeEach
    void start() throws Exception {
        profiles = Files.createDirectories(dir.resolve("profiles"));
        System.setProperty("compart.backup.profiles", profiles.toString());
        daemon = new CliTestDaemon(dir);
        assertThat(daemon.run("qvm-create", "--class", "TemplateVM", "--label", "black", "fedora").code()).isZero();
        assertThat(daemon.run("qvm-create", "-t", "fedora", "-l", "red", "work").code()).isZero();
        // a 1 MiB private volume keeps the backup short (a new one is 2 GiB of zeros)
        byte[] data = new byte[1 << 20];
        new Random(26).nextBytes(data);
        Path image = Files.write(dir.resolve("private.img"), data);
        CliRun imported = daemon.run("qvm-volume", "import", "work:private", image.toString());
        assertThat(imported.code()).as(imported.err()).isZero();
    }

    @AfterEach
    void stop() {
        daemon.close();
        System.clearProperty("compart.backup.profiles");
    }

    @Test
    void qvmBackupWritesTheNamedQubesToAFileInQubesLayoutAndRemovesItsTemporaryProfile() throws Exception {
        Path pass = Files.writeString(dir.resolve("pass"), "secret words\n");
        Path target = dir.resolve("work-backup");
        CliRun r = daemon.run("qvm-backup", "-y", "--passphrase-file", pass.toString(), target.toString(), "work");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("             work |           VM |      1.0 MiB |").contains("VMs not selected for backup:");
        assertThat(Files.isRegularFile(target)).isTrue();
        try (var s = Files.list(profiles)) {
            assertThat(s.toList()).as("the temporary profile is gone").isEmpty();
        }
        Process tar = new ProcessBuilder("tar", "-tif", target.toString()).redirectErrorStream(true).start();
        String listing = new String(tar.getInputStream().readAllBytes());
        assertThat(tar.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(listing.lines().toList()).startsWith("backup-header", "backup-header.hmac", "qubes.xml.000.enc")
                .anyMatch(l -> l.matches("vm[0-9]+/private\\.img\\.000\\.enc"));
    }

    @Test
    void saveProfileKeepsTheProfileInQubesYaml() throws Exception {
        Path pass = Files.writeString(dir.resolve("pass"), "secret words\n");
        CliRun r = daemon.run("qvm-backup", "-y", "--save-profile", "nightly", "--passphrase-file", pass.toString(),
                "-x", "other", dir.resolve("b").toString(), "work");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Files.readString(profiles.resolve("nightly.conf"))).isEqualTo("""
                compression: true
                destination_path: %s
                destination_vm: dom0
                exclude:
                - other
                include:
                - work
                passphrase_text: secret words
                """.formatted(dir.resolve("b")));
    }

    @Test
    void withoutALocationOrProfileItIsAUsageErrorAndAMissingProfileFailsWithQubesWords() {
        CliRun usage = daemon.run("qvm-backup", "-y");
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("either --profile or 'backup_location' is required");
        CliRun missing = daemon.run("qvm-backup", "-y", "--profile", "nope");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("Backup preparation error: Backup profile nope does not exist");
    }
}
