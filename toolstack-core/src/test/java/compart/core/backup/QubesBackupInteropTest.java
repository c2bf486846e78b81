package compart.core.backup;

import static compart.core.backup.BackupFormatTest.onPath;
import static compart.core.backup.BackupFormatTest.sha256;
import static compart.core.backup.BackupFixtures.PASSPHRASE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import compart.core.testing.QubesdOffline;
import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our format against Qubes' own code, unmodified, run offline: a backup written by qubes-core-admin's
 * {@code qubes/backup.py} (with the {@code scrypt} tool it calls) read by our reader, and a backup written by our
 * writer verified by qubes-core-admin-client's {@code qvm-backup-restore --verify-only} against Qubes' own daemon;
 * a backup compartd wrote ({@code admin.backup.Execute}) verified by Qubes' {@code qvm-backup-restore} talking to
 * compartd, and restored by it into compartd (the qube, its property, feature, tag and volume bytes back). The
 * harnesses are ours ({@code qubes_backup_oracle.py}, {@code volume_import_service.py} standing in for dom0's
 * {@code /etc/qubes-rpc/admin.vm.volume.Import}); Qubes' sources come from {@code ../shared} (the tests skip
 * without them).
 *
 * <p>One change to what Qubes writes: a {@code scrypt} wrapper first on {@code PATH} adds {@code --logN 14} to
 * {@code scrypt enc}, so an envelope costs milliseconds instead of the tool's calibrated five seconds; the format
 * is the same, the cost is in each header.
 */
class QubesBackupInteropTest {

    private static final String ADMIN = "qubes-core-admin-4.3.50";
    private static final String CLIENT = "qubes-core-admin-client-4.3.34";
    private static final String QREXEC = "qubes-core-qrexec-4.3.12";

    @TempDir
    static Path sources;

    @BeforeAll
    static void unpack() throws Exception {
        assumeTrue(QubesdOffline.unavailable().isEmpty(), () -> QubesdOffline.unavailable().orElseThrow());
        assumeTrue(onPath("scrypt") && onPath("tar"), "Debian's scrypt tool or GNU tar is not installed (.ci/run)");
        Path shared = QubesdOffline.shared();
        QubesdOffline.unpack(shared.resolve("qubes-dom0-src"), ADMIN, sources);
        QubesdOffline.unpack(shared.resolve("qubes-dom0-src"), CLIENT, sources);
        QubesdOffline.unpack(shared.resolve("qubes-guest-src"), QREXEC, sources);
        // their package metadata (entry points: pool drivers, the tools' version), as Qubes' own tests do
        for (String tree : List.of(ADMIN, CLIENT)) {
            Process p = new ProcessBuilder(QubesdOffline.python().orElseThrow(), "setup.py", "-q", "egg_info")
                    .directory(sources.resolve(tree).toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IOException(tree + ": setup.py egg_info failed: " + out);
            }
        }
        Path wrap = Files.createDirectories(sources.resolve("bin"));
        Path scrypt = Files.writeString(wrap.resolve("scrypt"), """
                #!/bin/sh
                if [ "$1" = enc ]; then shift; exec /usr/bin/scrypt enc --logN 14 -r 8 -p 1 "$@"; fi
                exec /usr/bin/scrypt "$@"
                """);
        Files.setPosixFilePermissions(scrypt, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String script : List.of("backup/qubes_backup_oracle.py", "api/fidelity/qubesd_offline.py")) {
            try (InputStream in = QubesBackupInteropTest.class.getResourceAsStream("/compart/core/" + script)) {
                Files.write(sources.resolve(Path.of(script).getFileName()), in.readAllBytes());
            }
        }
    }

    @Test
    void aBackupWrittenByQubesBackupPyIsReadByOursByteForByte(@TempDir Path dir) throws Exception {
        byte[] image = sparseImage();
        Path imageFile = Files.write(dir.resolve("private-source.img"), image);
        Path backup = dir.resolve("qubes-backup");
        oracle(dir, ADMIN + ":" + sources.resolve(QREXEC), "write", dir.resolve("base").toString(),
                backup.toString(), passFile(dir).toString(), imageFile.toString());

        BackupReader reader = new BackupReader(backup, PASSPHRASE, BackupReader.DEFAULT_SCRYPT_LIMIT);
        BackupReader.Contents contents = reader.verify();
        assertThat(contents.header().compressionFilter()).isEqualTo("gzip");
        assertThat(contents.manifest().qubes()).singleElement().satisfies(q -> {
            assertThat(q.name()).isEqualTo("work");
            assertThat(q.klass()).isEqualTo("StandaloneVM");
            assertThat(q.volumes()).contains("private", "root");
        });
        assertThat(new String(contents.qubesXml(), StandardCharsets.UTF_8)).contains("from-qubes-backup-py")
                .contains("service.crond");
        assertThat(contents.files()).extracting(BackupReader.FileInfo::name)
                .contains("qubes.xml", "vm1/private.img", "vm1/root.img");
        Map<String, ByteArrayOutputStream> out = new TreeMap<>();
        reader.extract(contents, f -> f.name().endsWith(".img")
                ? out.computeIfAbsent(f.name(), n -> new ByteArrayOutputStream()) : null);
        assertThat(sha256(out.get("vm1/private.img").toByteArray())).isEqualTo(sha256(image));
        assertThat(out.get("vm1/root.img").size()).isEqualTo(1 << 20);
    }

    @Test
    void aBackupWrittenByOursPassesQubesQvmBackupRestoreVerifyOnly(@TempDir Path dir) throws Exception {
        Path backup = dir.resolve("our-backup");
        BackupFixtures.write(backup, BackupFixtures.qubesXml("vm1/", "appvms/work/private"), sparseImage());
        try (QubesdOffline qubesd = QubesdOffline.start(Files.createDirectories(dir.resolve("qubesd")))) {
            Result ok = oracle(dir, sources.resolve(CLIENT).toString(), "restore",
                    dir.resolve("qubesd/qubesd.sock").toString(), backup.toString(), passFile(dir).toString(),
                    "--verify-only");
            assertThat(ok.exit()).as(ok.output()).isZero();
            assertThat(ok.output()).contains(" work | StandaloneVM |").contains("-> Verifying work...")
                    .contains("-> Done.").doesNotContainIgnoringCase("error");

            byte[] bad = Files.readAllBytes(backup);
            bad[bad.length / 2] ^= 0x10;
            Path tampered = Files.write(dir.resolve("tampered"), bad);
            Result refused = oracle(dir, sources.resolve(CLIENT).toString(), "restore",
                    dir.resolve("qubesd/qubesd.sock").toString(), tampered.toString(), passFile(dir).toString(),
                    "--verify-only");
            assertThat(refused.exit()).as(refused.output()).isNotZero();
            assertThat(refused.output()).as("Qubes' restore notices the flipped byte too")
                    .contains("failed to decrypt").contains("private.img");
        }
    }

    @Test
    void aBackupWrittenByCompartdPassesQubesQvmBackupRestoreVerifyOnlyAgainstCompartd(@TempDir Path dir)
            throws Exception {
        Path profiles = Files.createDirectories(dir.resolve("profiles"));
        System.setProperty("compart.backup.profiles", profiles.toString());
        try (TestDaemon compartd = TestDaemon.onTestHypervisor().withFedoraAndWork().startedByTheTest()) {
            compartd.start();
            Path backup = backUpWork(compartd.admin(), profiles, dir, sparseImage());
            Result ok = oracle(dir, sources.resolve(CLIENT).toString(), "restore",
                    compartd.admin().socket().toString(), backup.toString(), passFile(dir).toString(),
                    "--verify-only");
            assertThat(ok.exit()).as(ok.output()).isZero();
            assertThat(ok.output()).contains(" work |").contains("-> Verifying work...").contains("-> Done.")
                    .doesNotContainIgnoringCase("error");
        } finally {
            System.clearProperty("compart.backup.profiles");
        }
    }

    @Test
    void qubesQvmBackupRestoreRecreatesAQubeCompartdBackedUpIntoCompartdWithItsVolumeFeaturesAndTags(
            @TempDir Path dir) throws Exception {
        Path profiles = Files.createDirectories(dir.resolve("profiles"));
        System.setProperty("compart.backup.profiles", profiles.toString());
        try (TestDaemon compartd = TestDaemon.onTestHypervisor().withFedoraAndWork().startedByTheTest()) {
            compartd.start();
            Wire admin = compartd.admin();
            byte[] data = sparseImage();
            admin.ok("admin.vm.feature.Set", "service.crond", "work", "1");
            admin.ok("admin.vm.tag.Set", "round-trip", "work", "");
            admin.ok("admin.vm.property.Set", "memory", "work", "777");
            Path backup = backUpWork(admin, profiles, dir, data);
            admin.ok("admin.vm.Remove", "", "work", "");

            Path services = Files.createDirectories(dir.resolve("qubes-rpc"));
            try (InputStream in = QubesBackupInteropTest.class.getResourceAsStream(
                    "/compart/core/backup/volume_import_service.py")) {
                byte[] script = in.readAllBytes();
                for (String method : List.of("admin.vm.volume.Import", "admin.vm.volume.ImportWithSize")) {
                    Path p = Files.write(services.resolve(method), ("#!" + QubesdOffline.python().orElseThrow()
                            + "\n").getBytes(StandardCharsets.US_ASCII));
                    Files.write(p, script, StandardOpenOption.APPEND);
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
            Result restored = oracle(dir, sources.resolve(CLIENT).toString(), Map.of("QREXEC_SERVICES_DIR",
                    services.toString(), "COMPART_TEST_SOCKET", admin.socket().toString()), "restore",
                    admin.socket().toString(), backup.toString(), passFile(dir).toString());
            assertThat(restored.exit()).as(restored.output()).isZero();
            assertThat(restored.output()).doesNotContainIgnoringCase("error");

            assertThat(admin.ok("admin.vm.feature.Get", "service.crond", "work", "")).isEqualTo("1");
            assertThat(admin.ok("admin.vm.tag.Get", "round-trip", "work", "")).isEqualTo("1");
            assertThat(admin.property("work", "memory")).isEqualTo("777");
            assertThat(admin.property("work", "template")).isEqualTo("fedora");
            String info = admin.ok("admin.vm.volume.Info", "private", "work", "");
            Path image = Path.of(info.lines().filter(l -> l.startsWith("path=")).findFirst().orElseThrow()
                    .substring(5));
            assertThat(sha256(Files.readAllBytes(image))).isEqualTo(sha256(data));
        } finally {
            System.clearProperty("compart.backup.profiles");
        }
    }

    /** Imports {@code data} into work's private volume and backs work up with compartd's admin.backup.Execute. */
    private static Path backUpWork(Wire admin, Path profiles, Path dir, byte[] data) throws IOException {
        byte[] size = (data.length + "\n").getBytes(StandardCharsets.US_ASCII);
        byte[] withSize = new byte[size.length + data.length];
        System.arraycopy(size, 0, withSize, 0, size.length);
        System.arraycopy(data, 0, withSize, size.length, data.length);
        admin.raw("admin.vm.volume.ImportWithSize", "private", "dom0", "work", withSize);
        Path backup = dir.resolve("compartd-backup");
        Files.writeString(profiles.resolve("p.conf"), """
                destination_path: %s
                destination_vm: dom0
                include:
                - work
                passphrase_text: %s
                """.formatted(backup, new String(PASSPHRASE, StandardCharsets.UTF_8)));
        admin.ok("admin.backup.Execute", "p", "dom0", "");
        return backup;
    }

    /** 6 MiB with data at both ends of a hole, so Qubes' tar writes a sparse entry. */
    private static byte[] sparseImage() {
        return BackupFixtures.image(6, 4, 0, 3);
    }

    private static Path passFile(Path dir) throws IOException {
        Path p = dir.resolve("passphrase");
        Files.write(p, PASSPHRASE);
        Files.writeString(p, "\n", StandardOpenOption.APPEND);
        return p;
    }

    private record Result(int exit, String output) {
    }

    private static Result oracle(Path dir, String pythonPath, String... args) throws Exception {
        return oracle(dir, pythonPath, Map.of(), args);
    }

    private static Result oracle(Path dir, String pythonPath, Map<String, String> env, String... args)
            throws Exception {
        List<String> command = new ArrayList<>(List.of(QubesdOffline.python().orElseThrow(),
                sources.resolve("qubes_backup_oracle.py").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        String path = pythonPath.startsWith(ADMIN) ? sources.resolve(pythonPath).toString() : pythonPath;
        pb.environment().put("PYTHONPATH", path);
        pb.environment().put("PATH", sources.resolve("bin") + ":/usr/bin:/bin");
        // Qubes' restore keeps its temporary files under ~/QubesIncoming
        pb.environment().put("HOME", dir.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException("Qubes' backup code did not finish: " + out);
        }
        if (args[0].equals("write") && p.exitValue() != 0) {
            throw new IOException("Qubes' backup.py failed: " + out);
        }
        return new Result(p.exitValue(), out);
    }
}
