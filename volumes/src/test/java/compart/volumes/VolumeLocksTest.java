package compart.volumes;

import static org.assertj.core.api.Assertions.assertThat;

import compart.volumes.dedup.DedupOptions;
import compart.volumes.dedup.DedupReport;
import compart.volumes.dedup.Deduplicator;
import compart.volumes.reflink.ReflinkPoolDriver;
import compart.xl.testing.LoopFileSystem;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Cross-process volume locks, with a second JVM holding a lock. */
class VolumeLocksTest {
    private static final String PRIVATE = "appvms/work/private";
    @RegisterExtension
    static final LoopFileSystem.PerClass xfs = LoopFileSystem.perClass("xfs", 320L << 20);
    private Process child;

    @TempDir
    Path tmp;

    @AfterEach
    void stopChild() {
        if (child != null) {
            child.destroyForcibly();
        }
    }

    /** Starts a JVM that holds {@code vid}'s lock until {@link #release()} (or until it is killed). */
    private void holdInChild(Path poolDir, String vid) throws IOException {
        List<String> cmd = new ArrayList<>(ChildJvm.command(List.of(), LockChild.class, VolumeLocks.class));
        cmd.addAll(List.of(LockChild.class.getName(), poolDir.toString(), vid));
        child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String line = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertThat(line).as("the child took the lock").isEqualTo("LOCKED");
    }

    private void release() throws Exception {
        OutputStream in = child.getOutputStream();
        in.write('\n');
        in.flush();
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aVolumeLockedByAnotherProcess_cannotBeTakenHere_butOtherVolumesCan() throws Exception {
        holdInChild(tmp, PRIVATE);
        VolumeLocks locks = VolumeLocks.of(tmp);

        assertThat(locks.tryLock(PRIVATE)).isNull();
        try (VolumeLocks.Held other = locks.tryLock("appvms/work/root")) {
            assertThat(other).isNotNull();
        }

        release();
        try (VolumeLocks.Held mine = locks.tryLock(PRIVATE)) {
            assertThat(mine).as("free once the other process released it").isNotNull();
        }
    }

    @Test
    void aProcessKilledWhileHoldingALock_leavesItFree() throws Exception {
        holdInChild(tmp, PRIVATE);
        assertThat(VolumeLocks.of(tmp).tryLock(PRIVATE)).isNull();

        child.destroyForcibly().waitFor();

        try (VolumeLocks.Held mine = VolumeLocks.of(tmp).tryLock(PRIVATE)) {
            assertThat(mine).isNotNull();
        }
    }

    @Test
    void aPoolOperation_waitsForTheOtherProcessToRelease() throws Exception {
        Pool pool = PoolDriver.openPool(new PoolConfig("p", ReflinkPoolDriver.NAME,
                Map.of("dir_path", xfs.root().resolve("wait").toString(), "reserve_percent", "0")));
        Volume v = pool.volume(PRIVATE, VolumeConfig.persistent("private", 1 << 20));
        v.create();
        holdInChild(xfs.root().resolve("wait"), PRIVATE);

        CompletableFuture<Void> start = CompletableFuture.runAsync(v::start);
        Thread.sleep(500); // the operation must still be waiting for the lock
        assertThat(start).isNotDone();
        assertThat(v.isRunning()).isFalse();

        release();
        start.get(30, TimeUnit.SECONDS);
        assertThat(v.isRunning()).isTrue();
        v.stop();
    }

    @Test
    void dedup_skipsAVolumeThatAnotherProcessHolds_andMergesItOnceFree() throws Exception {
        Path dir = xfs.root().resolve("dedup");
        Pool pool = PoolDriver.openPool(new PoolConfig("d", ReflinkPoolDriver.NAME,
                Map.of("dir_path", dir.toString(), "reserve_percent", "0")));
        byte[] data = new byte[4 << 20];
        new Random(1).nextBytes(data);
        for (String vid : List.of("vm-templates/a/root", PRIVATE)) {
            Volume v = pool.volume(vid, VolumeConfig.persistent(vid.substring(vid.lastIndexOf('/') + 1), data.length));
            v.importData(new ByteArrayInputStream(data), data.length);
        }
        Deduplicator dedup = new Deduplicator(DedupOptions.defaults(null), Deduplicator.Progress.NONE);
        holdInChild(dir, PRIVATE);

        DedupReport busy = dedup.run(List.of(dir));
        assertThat(busy.dedupedBytes()).as("nothing merged while %s is locked elsewhere", PRIVATE).isZero();

        release();
        DedupReport free = dedup.run(List.of(dir));
        assertThat(free.dedupedBytes()).isEqualTo(data.length);
        assertThat(Files.readAllBytes(dir.resolve(PRIVATE + ".img"))).isEqualTo(data);
    }

    @Test
    void ownerOf_findsThePoolAndTheVolumeOfEachFileOfTheLayout() throws Exception {
        VolumeLocks.of(tmp);
        for (String name : List.of("private.img", "private-dirty.img", "private.img.new", "private.img@000003",
                "private.img.new~1f2e", "private-dirty.img~77")) {
            assertThat(VolumeLocks.ownerOf(tmp.resolve("appvms/work/" + name)))
                    .as(name).contains(new VolumeLocks.Owner(tmp.toRealPath(), PRIVATE));
        }
        assertThat(VolumeLocks.ownerOf(tmp.resolve("appvms/work/notes.txt"))).isEmpty();
        assertThat(VolumeLocks.ownerOf(Path.of("/nonexistent/dir/x.img"))).isEmpty();
    }
}
