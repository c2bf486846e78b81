package compart.volumes.reflink;

import static org.assertj.core.api.Assertions.assertThat;

import compart.volumes.ChildJvm;
import compart.volumes.PoolConfig;
import compart.volumes.PoolDriver;
import compart.volumes.Volume;
import compart.volumes.VolumeConfig;
import compart.volumes.dedup.DedupKeeper;
import compart.xl.linux.Extent;
import compart.xl.linux.LinuxFile;
import compart.xl.testing.LoopFileSystem;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A {@code file-reflink} pool with {@code dedup=on} on a loop-mounted XFS (reflink=1): each commit is deduplicated
 * in the background by the pool's {@link DedupKeeper}, which runs the real deduplicator.
 */
class DedupOnCommitTest {
    private static final int MIB = 1 << 20;
    private static final Duration LONG = Duration.ofSeconds(60);
    @RegisterExtension
    static final LoopFileSystem.PerClass fs = LoopFileSystem.perClass("xfs", 320L * MIB);
    private Path dir;
    private ReflinkPool pool;

    @BeforeEach
    void freshDir() throws IOException {
        dir = Files.createTempDirectory(fs.root(), "pool");
    }

    @AfterEach
    void clean() throws Exception {
        if (pool != null) {
            pool.close();
        }
        LoopFileSystem.run("rm", "-rf", dir.toString());
    }

    private ReflinkPool open(String dedup) {
        var c = DedupChild.config(dir.toString());
        var options = new HashMap<>(c.options());
        options.put("dedup", dedup);
        return (ReflinkPool) PoolDriver.openPool(new PoolConfig(c.name(), c.driver(), options));
    }

    private DedupKeeper keeper() {
        return pool.dedup().orElseThrow();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private Volume imported(String vid, byte[] data) {
        Volume v = pool.volume(vid, VolumeConfig.persistent(vid.substring(vid.lastIndexOf('/') + 1), data.length));
        v.create();
        v.importData(new ByteArrayInputStream(data), data.length);
        return v;
    }

    private static void qubeWrites(Volume v, long offset, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(v.blockDevicePath(), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data), offset);
            ch.force(true);
        }
    }

    private Path committed(String vid) {
        return ImageNames.committed(dir, vid);
    }

    private static long sharedBytes(Path p, long from, long length) {
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ)) {
            return f.extents(from, length, true).stream().filter(Extent::shared)
                    .mapToLong(e -> Math.min(e.logical() + e.length(), from + length) - Math.max(e.logical(), from)).sum();
        }
    }

    private static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void aQubesStop_isDeduplicatedInTheBackground_sharingWhatItCopied_andChangingNoByte() throws Exception {
        pool = open("on");
        byte[] tpl = random(16 * MIB, 1);
        imported("vm-templates/t/root", tpl);
        Volume priv = imported("appvms/work/private", random(16 * MIB, 2));
        assertThat(keeper().awaitDeduplicated(LONG)).isTrue();
        byte[] expected = Files.readAllBytes(committed("appvms/work/private"));

        priv.start();
        byte[] copied = Arrays.copyOfRange(tpl, 4 * MIB, 12 * MIB); // the qube copies 8 MiB of the template
        qubeWrites(priv, 8 * MIB, copied);
        System.arraycopy(copied, 0, expected, 8 * MIB, copied.length);
        priv.stop();

        assertThat(keeper().awaitDeduplicated(LONG)).isTrue();
        assertThat(sha256(committed("appvms/work/private"))).isEqualTo(sha256(expected));
        assertThat(sha256(committed("vm-templates/t/root"))).isEqualTo(sha256(tpl));
        assertThat(sharedBytes(committed("appvms/work/private"), 8 * MIB, 8 * MIB)).isEqualTo(8L * MIB);
        assertThat(sharedBytes(committed("vm-templates/t/root"), 4 * MIB, 8 * MIB)).isEqualTo(8L * MIB);
        assertThat(pool.figures()).containsEntry("dedup_state", "idle")
                .containsKeys("dedup_last_commit_to_done_ms", "dedup_last_deduplicated_bytes");
        assertThat(Long.parseLong(pool.figures().get("dedup_deduplicated_bytes"))).isGreaterThanOrEqualTo(8L * MIB);
    }

    @Test
    void aPass_waitsWhileAVolumeOperationHoldsThePool_andACancelEndsIt() throws Exception {
        pool = open("on");
        imported("vm-templates/t/root", random(4 * MIB, 1));
        assertThat(keeper().awaitDeduplicated(LONG)).isTrue();

        try (DedupKeeper.Busy busy = keeper().busy()) {
            pool.committed();
            assertThat(keeper().awaitDeduplicated(Duration.ofMillis(300))).isFalse();
            assertThat(pool.figures()).containsEntry("dedup_state", "paused");
        }
        assertThat(keeper().awaitDeduplicated(LONG)).isTrue();

        try (DedupKeeper.Busy busy = keeper().busy()) {
            pool.committed();
            while (!pool.figures().get("dedup_state").equals("paused")) {
                Thread.sleep(1);
            }
            keeper().cancel();
            assertThat(keeper().awaitDeduplicated(LONG)).isFalse();
            assertThat(pool.figures()).containsEntry("dedup_state", "cancelled");
        }
        pool.committed();
        assertThat(keeper().awaitDeduplicated(LONG)).as("the next commit runs a pass").isTrue();
    }

    @Test
    void killMinus9_inTheMiddleOfAPass_changesNoByte_andTheNextStartFinishesIt() throws Exception {
        pool = open("off");
        byte[] data = random(32 * MIB, 3);
        List<String> vids = List.of("vm-templates/t/root", "appvms/a/private", "appvms/b/private");
        for (String vid : vids) {
            imported(vid, data); // written separately: three copies, nothing shared
        }
        pool.close();
        pool = null;

        List<String> cmd = new ArrayList<>(ChildJvm.command(List.of(), DedupChild.class, ReflinkPool.class));
        cmd.addAll(List.of(DedupChild.class.getName(), dir.toString()));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line = out.readLine();
            while (line != null && !line.startsWith("MERGING") && !line.startsWith("ENDED")) {
                System.out.println("child: " + line);
                line = out.readLine();
            }
            System.out.println("child: " + line);
            assertThat(line).startsWith("MERGING");
            child.destroyForcibly(); // SIGKILL
            child.waitFor();
        }
        long sharedAtKill = 0;
        for (String vid : vids) {
            assertThat(sha256(committed(vid))).isEqualTo(sha256(data));
            sharedAtKill += sharedBytes(committed(vid), 0, 32L * MIB);
        }
        System.out.printf("COMPART-DEDUP-KILL: killed in the merge phase; %d of %d bytes shared then%n",
                sharedAtKill, 3L * 32 * MIB);
        assertThat(sharedAtKill).as("killed after some merges and before the last").isPositive()
                .isLessThan(3L * 32 * MIB);

        pool = open("on");
        assertThat(keeper().awaitDeduplicated(LONG)).isTrue();
        for (String vid : vids) {
            assertThat(sha256(committed(vid))).isEqualTo(sha256(data));
            assertThat(sharedBytes(committed(vid), 0, 32L * MIB)).as(vid).isEqualTo(32L * MIB);
        }
    }
}
