package compart.core.backup;

import static compart.core.backup.BackupFixtures.CHEAP;
import static compart.core.backup.BackupFixtures.PASSPHRASE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupFormatTest {

    @TempDir
    Path dir;

    @Test
    void aBackupReadsBackToTheSameBytesAfterVerifying() throws Exception {
        byte[] volume = BackupFixtures.volume();
        Path file = dir.resolve("backup");
        BackupFixtures.write(file, BackupFixtures.qubesXml("vm1/", "appvms/work/private"), volume);

        BackupReader reader = new BackupReader(file, PASSPHRASE, BackupReader.DEFAULT_SCRYPT_LIMIT);
        BackupReader.Contents contents = reader.verify();
        assertThat(contents.header().backupId()).isEqualTo("20261207T171000-26");
        assertThat(contents.manifest().qubes()).singleElement()
                .satisfies(q -> assertThat(q.name()).isEqualTo("work"))
                .satisfies(q -> assertThat(q.volumes()).containsExactly("private"));
        assertThat(contents.files()).extracting(BackupReader.FileInfo::name)
                .containsExactly("qubes.xml", "vm1/private.img");
        assertThat(contents.files().get(1).sha256()).isEqualTo(sha256(volume));

        Map<String, ByteArrayOutputStream> out = new TreeMap<>();
        reader.extract(contents, f -> out.computeIfAbsent(f.name(), n -> new ByteArrayOutputStream()));
        assertThat(out.get("vm1/private.img").toByteArray()).isEqualTo(volume);
    }

    @Test
    void aVolumeIsSplitIntoNumberedChunksEachInItsOwnTarArchiveAsQubesWritesThem() throws Exception {
        assumeTrue(onPath("tar"), "GNU tar is not installed");
        Path file = dir.resolve("backup");
        BackupFixtures.write(file, BackupFixtures.qubesXml("vm1/", "appvms/work/private"), BackupFixtures.volume());
        String listing = run(dir, null, "tar", "-tif", file.toString());
        assertThat(listing.lines().toList()).startsWith("backup-header", "backup-header.hmac",
                "qubes.xml.000.enc", "vm1/private.img.000.enc", "vm1/private.img.001.enc");
    }

    @Test
    void aChunkWeEncryptIsDecryptedByDebiansScryptTool() throws Exception {
        assumeTrue(onPath("scrypt"), "Debian's scrypt tool is not installed (.ci/run installs it)");
        byte[] plain = BackupFixtures.volume();
        ByteArrayOutputStream enc = new ByteArrayOutputStream();
        try (OutputStream o = ScryptEnvelope.encrypt(enc, PASSPHRASE, CHEAP)) {
            o.write(plain);
        }
        Path in = Files.write(dir.resolve("chunk.enc"), enc.toByteArray());
        Path pass = Files.write(dir.resolve("pass"), PASSPHRASE);
        run(dir, null, "scrypt", "dec", "--passphrase", "file:" + pass, in.toString(), dir.resolve("out").toString());
        assertThat(Files.readAllBytes(dir.resolve("out"))).isEqualTo(plain);
    }

    @Test
    void aFileDebiansScryptToolEncryptsIsReadByUs() throws Exception {
        assumeTrue(onPath("scrypt"), "Debian's scrypt tool is not installed (.ci/run installs it)");
        byte[] plain = BackupFixtures.volume();
        Path in = Files.write(dir.resolve("plain"), plain);
        Path pass = Files.write(dir.resolve("pass"), PASSPHRASE);
        run(dir, null, "scrypt", "enc", "--logN", "10", "-r", "8", "-p", "1", "--passphrase", "file:" + pass,
                in.toString(), dir.resolve("chunk.enc").toString());
        Path enc = dir.resolve("chunk.enc");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ScryptEnvelope.decrypt(Files.newInputStream(enc), Files.size(enc), PASSPHRASE,
                BackupReader.DEFAULT_SCRYPT_LIMIT, "chunk.enc", out);
        assertThat(out.toByteArray()).isEqualTo(plain);
    }

    @Test
    void qubesDocumentedEmergencyRestoreWithTarScryptAndGzipRecoversOurVolume() throws Exception {
        assumeTrue(onPath("scrypt") && onPath("tar"), "Debian's scrypt tool or GNU tar is not installed");
        byte[] volume = BackupFixtures.volume();
        Path file = dir.resolve("backup");
        BackupFixtures.write(file, BackupFixtures.qubesXml("vm1/", "appvms/work/private"), volume);
        Path x = Files.createDirectories(dir.resolve("x"));
        run(x, null, "tar", "-i", "-xf", file.toString());
        Path pass = Files.write(dir.resolve("pass"), "backup-header!".getBytes(StandardCharsets.US_ASCII));
        Files.write(pass, PASSPHRASE, StandardOpenOption.APPEND);
        run(x, null, "scrypt", "dec", "--passphrase", "file:" + pass, "backup-header.hmac", "backup-header.dec");
        assertThat(Files.readAllBytes(x.resolve("backup-header.dec")))
                .isEqualTo(Files.readAllBytes(x.resolve("backup-header")));
        List<Path> chunks;
        try (var s = Files.list(x.resolve("vm1"))) {
            chunks = s.filter(p -> p.toString().endsWith(".enc")).sorted().toList();
        }
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (Path c : chunks) {
            String name = "vm1/" + c.getFileName().toString().replaceFirst("\\.enc$", "");
            Path chunkPass = Files.write(dir.resolve("pass-" + c.getFileName()),
                    ("20261207T171000-26!" + name + "!").getBytes(StandardCharsets.UTF_8));
            Files.write(chunkPass, PASSPHRASE, StandardOpenOption.APPEND);
            run(x, null, "scrypt", "dec", "--passphrase", "file:" + chunkPass, c.toString(), c + ".dec");
            joined.write(Files.readAllBytes(Path.of(c + ".dec")));
        }
        Path out = Files.createDirectories(dir.resolve("out"));
        run(out, joined.toByteArray(), "tar", "-xzf", "-");
        assertThat(Files.readAllBytes(out.resolve("vm1/private.img"))).isEqualTo(volume);
    }

    @Test
    void aWrongPassphraseIsRefusedWithQubesWords() throws Exception {
        Path file = dir.resolve("backup");
        BackupFixtures.write(file, BackupFixtures.qubesXml("vm1/", "appvms/work/private"), BackupFixtures.volume());
        assertThatThrownBy(() -> new BackupReader(file, "wrong".getBytes(StandardCharsets.UTF_8),
                BackupReader.DEFAULT_SCRYPT_LIMIT).verify())
                .isInstanceOf(CompartException.class)
                .hasMessageContaining("Is the password correct?")
                .extracting(e -> ((CompartException) e).kind()).isEqualTo(ErrorKind.PERMISSION_DENIED);
    }

    @Test
    void aByteFlippedAnywhereIsRefusedBeforeAnythingIsExtracted() throws Exception {
        Path file = dir.resolve("backup");
        BackupFixtures.write(file, BackupFixtures.qubesXml("vm1/", "appvms/work/private"), BackupFixtures.volume());
        byte[] good = Files.readAllBytes(file);
        List<Integer> positions = new ArrayList<>();
        for (Segment s : segments(good)) {
            positions.add(s.start() + 200);
            positions.add(s.start() + 512 + 5);
            positions.add(s.start() + 512 + s.size() / 2);
            positions.add(s.start() + 512 + s.size() - 1);
        }
        for (int at : positions) {
            byte[] bad = good.clone();
            bad[at] ^= 0x01;
            Path tampered = Files.write(dir.resolve("tampered"), bad);
            assertThatThrownBy(() -> new BackupReader(tampered, PASSPHRASE, BackupReader.DEFAULT_SCRYPT_LIMIT)
                    .verify()).as("byte %d flipped", at).isInstanceOf(CompartException.class);
        }
    }

    @Test
    void aTruncatedBackupIsRefusedWhereverItIsCut() throws Exception {
        Path file = dir.resolve("backup");
        BackupFixtures.write(file, BackupFixtures.qubesXml("vm1/", "appvms/work/private"), BackupFixtures.volume());
        byte[] good = Files.readAllBytes(file);
        List<Segment> segments = segments(good);
        List<Integer> cuts = new ArrayList<>(List.of(0, 100, 700, good.length - 1));
        for (Segment s : segments.subList(0, segments.size() - 1)) {
            cuts.add(s.start() + 512 + s.size() / 2);
        }
        // the last chunk dropped whole: the archive then ends at a record boundary
        cuts.add(segments.getLast().start());
        for (int cut : cuts) {
            Path truncated = Files.write(dir.resolve("truncated"), Arrays.copyOf(good, cut));
            assertThatThrownBy(() -> new BackupReader(truncated, PASSPHRASE, BackupReader.DEFAULT_SCRYPT_LIMIT)
                    .verify()).as("cut at %d", cut).isInstanceOf(CompartException.class);
        }
    }

    @Test
    void chunksOutOfOrderAreRefusedNamingTheChunkExpected() throws Exception {
        Path file = dir.resolve("backup");
        BackupFixtures.write(file, BackupFixtures.qubesXml("vm1/", "appvms/work/private"), BackupFixtures.volume());
        byte[] good = Files.readAllBytes(file);
        List<Segment> s = segments(good);
        // backup-header, .hmac, qubes.xml.000, vm1/private.img.000, .001, ...: swap .001 and .002
        ByteArrayOutputStream swapped = new ByteArrayOutputStream();
        for (int i = 0; i < s.size(); i++) {
            Segment take = i == 4 ? s.get(5) : i == 5 ? s.get(4) : s.get(i);
            swapped.write(good, take.start(), take.length());
        }
        Path bad = Files.write(dir.resolve("swapped"), swapped.toByteArray());
        assertThatThrownBy(() -> new BackupReader(bad, PASSPHRASE, BackupReader.DEFAULT_SCRYPT_LIMIT).verify())
                .isInstanceOf(CompartException.class)
                .hasMessageContaining("Unexpected file in archive: vm1/private.img.002.enc, expected"
                        + " vm1/private.img.001.enc");
    }

    @Test
    void aQubesXmlNamingABackupPathOutsideTheBackupIsRefused() throws Exception {
        Path file = dir.resolve("backup");
        BackupFixtures.write(file, BackupFixtures.qubesXml("../../etc/", "appvms/work/private"),
                BackupFixtures.volume());
        assertThatThrownBy(() -> new BackupReader(file, PASSPHRASE, BackupReader.DEFAULT_SCRYPT_LIMIT).verify())
                .isInstanceOf(CompartException.class).hasMessageContaining("'../../etc/'")
                .hasMessageContaining("refused");
    }

    @Test
    void aQubesXmlNamingAVolumeOutsideItsPoolIsRefused() throws Exception {
        Path file = dir.resolve("backup");
        BackupFixtures.write(file, BackupFixtures.qubesXml("vm1/", "appvms/../../../etc/shadow"),
                BackupFixtures.volume());
        assertThatThrownBy(() -> new BackupReader(file, PASSPHRASE, BackupReader.DEFAULT_SCRYPT_LIMIT).verify())
                .isInstanceOf(CompartException.class).hasMessageContaining("outside its pool");
    }

    @Test
    void anEnvelopeAskingForMoreScryptMemoryThanAllowedIsRefusedBeforeDerivingAKey() throws Exception {
        ByteArrayOutputStream enc = new ByteArrayOutputStream();
        try (OutputStream o = ScryptEnvelope.encrypt(enc, PASSPHRASE, CHEAP)) {
            o.write(1);
        }
        assertThatThrownBy(() -> ScryptEnvelope.decrypt(new ByteArrayInputStream(enc.toByteArray()), enc.size(),
                PASSPHRASE, 1 << 20, "chunk", OutputStream.nullOutputStream()))
                .isInstanceOf(CompartException.class).hasMessageContaining("more than the 1 MiB allowed");
    }

    /** One archive of the outer stream: its header block at {@code start}, {@code size} bytes of data. */
    record Segment(int start, int size, int length) {
    }

    static List<Segment> segments(byte[] b) {
        List<Segment> out = new ArrayList<>();
        int at = 0;
        while (at < b.length) {
            int size = Integer.parseInt(new String(b, at + 124, 11, StandardCharsets.US_ASCII).trim(), 8);
            int used = 512 + (size + 511) / 512 * 512 + 1024;
            int length = (used + 10239) / 10240 * 10240;
            out.add(new Segment(at, size, length));
            at += length;
        }
        return out;
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static boolean onPath(String tool) {
        try {
            Process p = new ProcessBuilder("sh", "-c", "command -v " + tool).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static String run(Path cwd, byte[] stdin, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
        if (stdin != null) {
            try (OutputStream o = p.getOutputStream()) {
                o.write(stdin);
            }
        } else {
            p.getOutputStream().close();
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }
}
