package compart.xenhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpioArchiveTest {

    private static byte[] sample() throws Exception {
        return CpioArchive.inMemory(archive -> archive
                .directory("bin", 0755)
                .directory("dev", 0755)
                .file("bin/busybox", 0755, "not really busybox".getBytes(StandardCharsets.US_ASCII))
                .symlink("bin/sh", "busybox")
                .characterDevice("dev/console", 0600, 5, 1)
                .file("init", 0755, "#!/bin/sh\necho hi\n".getBytes(StandardCharsets.US_ASCII))
                .file("empty", 0644, new byte[0]));
    }

    @Test
    void entries_readBack_withTypesModesDevicesAndContent_allFourByteAligned() throws Exception {
        List<NewcReader.Entry> entries = NewcReader.read(sample());

        assertThat(entries).extracting(NewcReader.Entry::name)
                .containsExactly("bin", "dev", "bin/busybox", "bin/sh", "dev/console", "init", "empty");
        assertThat(entries.get(0).type()).isEqualTo(0040000);
        assertThat(entries.get(2).permissions()).isEqualTo(0755);
        assertThat(new String(entries.get(2).data(), StandardCharsets.US_ASCII)).isEqualTo("not really busybox");
        assertThat(entries.get(3).type()).isEqualTo(0120000);
        assertThat(new String(entries.get(3).data(), StandardCharsets.US_ASCII)).isEqualTo("busybox");
        assertThat(entries.get(4)).satisfies(console -> {
            assertThat(console.type()).isEqualTo(0020000);
            assertThat(console.rdevMajor()).isEqualTo(5);
            assertThat(console.rdevMinor()).isEqualTo(1);
        });
        assertThat(entries.get(6).data()).isEmpty();
    }

    @Test
    void archive_isReproducible_byteForByte() throws Exception {
        assertThat(sample()).isEqualTo(sample());
    }

    @Test
    void gnuCpio_listsAndExtractsTheArchive(@TempDir Path dir) throws Exception {
        assumeTrue(Prerequisites.findProgram("cpio", System.getenv("PATH")) != null,
                "GNU cpio is not installed (Debian package cpio; .ci/run installs it)");
        Path archive = dir.resolve("test.cpio");
        Files.write(archive, CpioArchive.inMemory(a -> a
                .directory("bin", 0755)
                .file("bin/tool", 0750, "content".getBytes(StandardCharsets.US_ASCII))
                .symlink("bin/link", "tool")));
        Path out = Files.createDirectory(dir.resolve("out"));

        String listing = run(dir, "sh", "-c", "cpio -t < test.cpio");
        run(out, "sh", "-c", "cpio -id --quiet < ../test.cpio");

        assertThat(listing.lines()).contains("bin", "bin/tool", "bin/link");
        assertThat(Files.readString(out.resolve("bin/tool"))).isEqualTo("content");
        assertThat(Files.readSymbolicLink(out.resolve("bin/link"))).isEqualTo(Path.of("tool"));
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(out.resolve("bin/tool")))).isEqualTo("rwxr-x---");
    }

    @Test
    void entryBeforeItsDirectory_isRefused() {
        assertThatThrownBy(() -> CpioArchive.inMemory(a -> a.file("bin/busybox", 0755, new byte[0])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("before its directory");
    }

    @Test
    void absoluteDuplicateAndTrailerNames_areRefused() {
        assertThatThrownBy(() -> CpioArchive.inMemory(a -> a.directory("/bin", 0755)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CpioArchive.inMemory(a -> a.directory("bin", 0755).directory("bin", 0755)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("twice");
        assertThatThrownBy(() -> CpioArchive.inMemory(a -> a.file("TRAILER!!!", 0644, new byte[0])))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void nothingMayBeAdded_afterFinish() throws Exception {
        var archive = new CpioArchive(new ByteArrayOutputStream());
        archive.finish();

        assertThatThrownBy(() -> archive.directory("bin", 0755)).isInstanceOf(IllegalStateException.class);
    }

    static String run(Path dir, String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(Duration.ofMinutes(1).toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", List.of(argv), out).isZero();
        return out;
    }
}
