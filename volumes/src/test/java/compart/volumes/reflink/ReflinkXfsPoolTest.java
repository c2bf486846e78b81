package compart.volumes.reflink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.PoolConfig;
import compart.volumes.PoolDriver;
import compart.volumes.Volume;
import compart.volumes.VolumeConfig;
import compart.xl.linux.Extent;
import compart.xl.linux.LinuxFile;
import compart.xl.testing.LoopFileSystem;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pool contract, and what is particular to {@code file-reflink}, on a loop-mounted XFS made with reflink=1. */
class ReflinkXfsPoolTest extends ReflinkLoopPoolTest {
    @Override
    protected String fileSystemType() {
        return "xfs";
    }

    private static List<Extent> extents(Path p) {
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ)) {
            return f.extents(0, Long.MAX_VALUE, true);
        }
    }

    @Test
    void appVmRootSnapshot_sharesEveryBlockWithTheTemplateRoot() throws IOException {
        Volume tpl = pool.volume("vm-templates/t/root", VolumeConfig.persistent("root", SIZE));
        tpl.create();
        runWriting(tpl, 0, pattern(4 * MIB, 1));
        Volume root = pool.volume("appvms/a/root", VolumeConfig.snapshot("root", SIZE, "vm-templates/t/root"));
        root.start();
        assertThat(extents(root.blockDevicePath())).isNotEmpty().allMatch(Extent::shared);
        root.stop();
    }

    @Test
    void clone_costDoesNotGrowWithTheVolumeSize() throws IOException {
        long[] nanos = new long[2];
        long[] sizes = {16L * MIB, 256L * MIB};
        for (int i = 0; i < 2; i++) {
            Volume src = pool.volume("vm-templates/big" + i + "/root", VolumeConfig.persistent("root", sizes[i]));
            src.create();
            try (RandomAccessFile f = new RandomAccessFile(src.blockDevicePath().resolveSibling("root.img").toFile(), "rw")) {
                // a contiguous allocated extent the size of the volume: only metadata, so the test stays quick
                try (LinuxFile lf = LinuxFile.open(src.blockDevicePath().resolveSibling("root.img"), LinuxFile.Mode.READ_WRITE)) {
                    lf.allocate(0, sizes[i]);
                }
                f.getFD().sync();
            }
            Volume dst = pool.volume("appvms/copy" + i + "/root", VolumeConfig.persistent("root", sizes[i]));
            dst.cloneFrom(src); // warm up the code path
            long t0 = System.nanoTime();
            dst.cloneFrom(src);
            nanos[i] = System.nanoTime() - t0;
        }
        // 16x more data, but a clone of a few extents must cost about the same (a generous 4x bound for noise)
        assertThat(nanos[1]).isLessThan(4 * nanos[0] + 20_000_000L);
    }

    @Test
    void pool_onExt4_isRefused_withAClearMessage() throws Exception {
        try (LoopFileSystem ext4 = LoopFileSystem.mount("ext4", 64L * MIB)) {
            PoolConfig config = new PoolConfig("onext4", ReflinkPoolDriver.NAME,
                    Map.of("dir_path", ext4.root().resolve("pool").toString()));
            assertThatThrownBy(() -> PoolDriver.openPool(config))
                    .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE))
                    .hasMessageContaining("(ext4) cannot make reflink copies")
                    .hasMessageContaining("mkfs.xfs -m reflink=1");
        }
    }
}
