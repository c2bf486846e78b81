package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.LoopXfs;
import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import compart.xl.linux.Extent;
import compart.xl.linux.LinuxFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code qvm-pool set varlibqubes -o dedup=on} on compartd (test hypervisor) with its default file-reflink pool on a
 * loop-mounted XFS with reflink: the daemon then deduplicates each commit of a volume — here a qube's stop — in the
 * background, and {@code qvm-pool info} shows its state and figures.
 */
class DedupPoolOnXfsTest {
    private static final int MIB = 1 << 20;
    static LoopXfs xfs;

    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(8192)
            .withTemplate("fedora", "black")
            .withAppVm("work", "fedora", "blue")
            .startedByTheTest();
    final Wire wire = compartd.admin();
    Path pool;

    @BeforeAll
    static void mount() throws Exception {
        xfs = LoopXfs.mount(1024);
    }

    @AfterAll
    static void unmount() throws Exception {
        if (xfs != null) {
            xfs.close();
        }
    }

    @BeforeEach
    void startOnXfs(TestInfo info) throws Exception {
        compartd.stateDir(xfs.root().resolve(info.getTestMethod().orElseThrow().getName())).start();
        pool = compartd.stateDir().resolve("pool");
    }

    private static void writeAt(Path file, long offset, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data), offset);
            ch.force(true);
        }
    }

    private static long sharedBytes(Path file) {
        try (var f = LinuxFile.open(file, LinuxFile.Mode.READ)) {
            return f.extents().stream().filter(Extent::shared).mapToLong(Extent::length).sum();
        }
    }

    private String info() throws IOException {
        return wire.ok("admin.pool.Info", "varlibqubes", "dom0", "");
    }

    /** @return the value of {@code key} in {@code admin.pool.Info}, or empty */
    private String infoValue(String key) throws IOException {
        return info().lines().filter(l -> l.startsWith(key + "=")).map(l -> l.substring(key.length() + 1))
                .findFirst().orElse("");
    }

    private void awaitIdle(long passes) throws Exception {
        for (int i = 0; i < 3000; i++) {
            String passed = infoValue("dedup_passes");
            if (infoValue("dedup_state").equals("idle") && !passed.isEmpty() && Long.parseLong(passed) >= passes) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no deduplication pass ended: " + info());
    }

    @Test
    void dedupOn_deduplicatesWhatAQubeWroteWhenItStops_andPoolInfoShowsTheFigures() throws Exception {
        byte[] template = new byte[8 * MIB];
        new Random(1).nextBytes(template);
        writeAt(pool.resolve("vm-templates/fedora/root.img"), 0, template);
        assertThat(wire.error("admin.pool.Set.dedup", "varlibqubes", "dom0", "maybe")).isEqualTo("QubesValueError");

        wire.ok("admin.pool.Set.dedup", "varlibqubes", "dom0", "on");
        assertThat(info()).contains("dedup=on\n");
        awaitIdle(1); // the first full pass

        wire.ok("admin.vm.Start", "", "work", "");
        Path priv = pool.resolve("appvms/work/private-dirty.img");
        writeAt(priv, 0, template); // the qube copies the template's 8 MiB into its private volume
        long passesBefore = Long.parseLong(infoValue("dedup_passes"));
        wire.ok("admin.vm.Shutdown", "wait", "work", "");
        awaitIdle(passesBefore + 1);

        assertThat(sharedBytes(pool.resolve("appvms/work/private.img"))).isGreaterThanOrEqualTo(8L * MIB);
        assertThat(Long.parseLong(infoValue("dedup_deduplicated_bytes"))).isGreaterThanOrEqualTo(8L * MIB);
        assertThat(info()).contains("dedup_last_commit_to_done_ms=");

        wire.ok("admin.pool.Set.dedup", "varlibqubes", "dom0", "off");
        assertThat(info()).contains("dedup=off\n").doesNotContain("dedup_state");
    }
}
