package compart.core.storage;

import static compart.core.testing.ImageText.read;
import static compart.core.testing.ImageText.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import compart.core.model.PoolDefinition;
import compart.errors.CompartException;
import compart.volumes.Pool;
import compart.volumes.VolumeConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * compartd's default pool where its directory cannot reflink (the temporary directory, ext4 here): {@link Storage}
 * opens a {@code file-reflink} pool with {@code setup_check=no}, and a pool of Qubes' old {@code file} driver,
 * through the volumes module's driver, which copies (sparsely) where it would clone. The driver's own behaviour on
 * a loop-mounted ext4 is {@code compart.volumes.reflink.ReflinkFallbackExt4PoolTest}.
 */
class DefaultPoolFallbackTest {
    @TempDir
    Path dir;

    @BeforeEach
    void needsADirectoryWithoutReflink() {
        assumeFalse(Storage.canReflink(dir.resolve("probe")), "the temporary directory " + dir
                + " can reflink: this test is about the fallback on a filesystem that cannot");
    }

    Pool pool() {
        return pool("file-reflink");
    }

    Pool pool(String driver) {
        var options = driver.equals("file") ? Map.of("dir_path", dir.toString(), "reserve_percent", "0")
                : Map.of("dir_path", dir.toString(), "reserve_percent", "0", "setup_check", "no");
        return new Storage().pool(new PoolDefinition("varlibqubes", driver, options));
    }

    @Test
    void defaultPool_withSetupCheckNo_opensOnADirectoryWithoutReflink_keepingItsConfig() {
        var p = pool();
        assertThat(p.config().driver()).isEqualTo("file-reflink");
        assertThat(p.config().options()).containsEntry("setup_check", "no");
        assertThat(pool("file").config().driver()).as("a file pool keeps its driver's name").isEqualTo("file");
    }

    @Test
    void privateVolume_commitsAtStop_keepsARevision_andReverts() throws Exception {
        var v = pool().volume("appvms/a/private", VolumeConfig.persistent("private", 1 << 30).withRevisionsToKeep(2));
        v.create();
        v.start();
        write(v.blockDevicePath(), 0, "ONE");
        v.stop();
        v.start();
        write(v.blockDevicePath(), 0, "TWO");
        v.stop();
        assertThat(read(dir.resolve("appvms/a/private.img"), 0, 3)).isEqualTo("TWO");
        assertThat(v.revisions()).hasSize(1);
        v.revert(v.revisions().getFirst().id());
        assertThat(read(dir.resolve("appvms/a/private.img"), 0, 3)).isEqualTo("ONE");
        assertThat(Files.size(dir.resolve("appvms/a/private.img"))).isEqualTo(1 << 30);
    }

    @Test
    void snapshotVolume_copiesTheSourceSparsely_andDiscardsChangesAtStop() throws Exception {
        var p = pool();
        var root = p.volume("vm-templates/t/root", VolumeConfig.persistent("root", 1L << 32));
        root.create();
        write(dir.resolve("vm-templates/t/root.img"), 1L << 31, "DATA-IN-THE-MIDDLE");
        var snap = p.volume("appvms/a/root", VolumeConfig.snapshot("root", 0, "vm-templates/t/root"));
        snap.start();
        assertThat(Files.size(snap.blockDevicePath())).isEqualTo(1L << 32);
        assertThat(read(snap.blockDevicePath(), 1L << 31, 18)).isEqualTo("DATA-IN-THE-MIDDLE");
        assertThat(snap.usage()).as("holes stay holes").isLessThan(1 << 20);
        write(snap.blockDevicePath(), 0, "CHANGE");
        snap.stop();
        assertThat(snap.blockDevicePath()).doesNotExist();
        assertThat(read(dir.resolve("vm-templates/t/root.img"), 0, 6)).isEqualTo("\0".repeat(6));
    }

    @Test
    void importExportAndClone_roundTripTheData_andRefuseWhileRunning_inAFilePool() throws Exception {
        var p = pool("file");
        var a = p.volume("appvms/a/private", VolumeConfig.persistent("private", 4096));
        a.create();
        a.importData(new ByteArrayInputStream(Arrays.copyOf("hello".repeat(1000).getBytes(), 8192)), 8192);
        var out = new ByteArrayOutputStream();
        a.exportData(out);
        assertThat(out.size()).isEqualTo(8192);
        assertThat(new String(out.toByteArray(), 0, 10)).isEqualTo("hellohello");
        var b = p.volume("appvms/b/private", VolumeConfig.persistent("private", 4096));
        b.create();
        b.cloneFrom(a);
        assertThat(b.size()).isEqualTo(8192);
        b.start();
        assertThatThrownBy(() -> b.cloneFrom(a)).isInstanceOf(CompartException.class).hasMessageContaining("running");
        assertThatThrownBy(() -> a.importData(new ByteArrayInputStream(new byte[10]), 4096))
                .hasMessageContaining("ended after 10 of 4096 bytes");
        assertThat(p.volumeIds()).containsExactly("appvms/a/private", "appvms/b/private");
    }

    @Test
    void repair_finishesAStagedInstall_andDropsTemporaries() throws Exception {
        var p = pool();
        var v = p.volume("appvms/a/private", VolumeConfig.persistent("private", 4096));
        v.create();
        Files.writeString(dir.resolve("appvms/a/private.img.new"), "STAGED");
        Files.writeString(dir.resolve("appvms/a/private.img~1"), "half written");
        v.start();
        assertThat(read(v.blockDevicePath(), 0, 6)).isEqualTo("STAGED");
        try (var s = Files.list(dir.resolve("appvms/a"))) {
            assertThat(s.map(x -> x.getFileName().toString())).containsExactlyInAnyOrder("private.img",
                    "private-dirty.img");
        }
    }
}
