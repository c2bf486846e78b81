package compart.core.daemon;

import static compart.core.testing.ImageText.read;
import static compart.core.testing.ImageText.write;
import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import compart.xl.linux.Extent;
import compart.xl.linux.LinuxFile;
import compart.xl.testing.LoopFileSystem;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * compartd (test hypervisor) with its state and default file-reflink pool on a real loop-mounted XFS with reflink:
 * the Qubes volume rules through the Admin API, checked on the image files themselves.
 */
class VolumesOnXfsTest {
    private static final int MIB = 1 << 20;
    @RegisterExtension
    static final LoopFileSystem.PerClass xfs = LoopFileSystem.perClass("xfs", 1024L * MIB);

    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(8192)
            .withTemplate("fedora", "black")
            .withAppVm("work", "fedora", "blue")
            .startedByTheTest();
    final Wire wire = compartd.admin();
    Path pool;

    @BeforeEach
    void startOnXfs(TestInfo info) throws Exception {
        compartd.stateDir(xfs.root().resolve(info.getTestMethod().orElseThrow().getName())).start();
        pool = compartd.stateDir().resolve("pool");
    }

    static boolean sharesExtents(Path file) {
        try (var f = LinuxFile.open(file, LinuxFile.Mode.READ)) {
            return f.extents().stream().anyMatch(Extent::shared);
        }
    }

    Path disk(String qube, String vdev) {
        return Path.of(compartd.hypervisor().specOf(qube).orElseThrow().disks().stream().filter(d -> d.vdev().equals(vdev))
                .findFirst().orElseThrow().target());
    }

    @Test
    void appVm_bootsOnASnapshotOfTheTemplateRoot_rootChangesAreGoneAtTheNextStart_privateIsKept() throws Exception {
        write(pool.resolve("vm-templates/fedora/root.img"), 0, "TEMPLATE-ROOT");
        wire.ok("admin.vm.Start", "", "work", "");
        Path root = disk("work", "xvda");
        Path priv = disk("work", "xvdb");
        Path vol = disk("work", "xvdc");
        assertThat(root).isEqualTo(pool.resolve("appvms/work/root-dirty.img"));
        assertThat(priv).isEqualTo(pool.resolve("appvms/work/private-dirty.img"));
        assertThat(read(root, 0, 13)).isEqualTo("TEMPLATE-ROOT");
        assertThat(sharesExtents(root)).as("root is a reflink snapshot of the template's root").isTrue();
        write(root, 4096, "APP-CHANGED-ROOT");
        write(priv, 0, "PRIVATE-1");
        write(vol, 0, "SCRATCH");

        wire.ok("admin.vm.Shutdown", "wait", "work", "");
        assertThat(root).doesNotExist();
        assertThat(read(pool.resolve("appvms/work/private.img"), 0, 9)).isEqualTo("PRIVATE-1");

        wire.ok("admin.vm.Start", "", "work", "");
        assertThat(read(root, 0, 13)).isEqualTo("TEMPLATE-ROOT");
        assertThat(read(root, 4096, 16)).isEqualTo("\0".repeat(16));
        assertThat(read(priv, 0, 9)).isEqualTo("PRIVATE-1");
        assertThat(read(vol, 0, 7)).isEqualTo("\0".repeat(7));
        write(priv, 0, "PRIVATE-2");
        assertThat(wire.error("admin.vm.volume.Revert", "private", "work", "000001"))
                .isEqualTo("QubesVMNotHaltedError");
        wire.ok("admin.vm.Shutdown", "wait", "work", "");

        String revisions = wire.ok("admin.vm.volume.ListSnapshots", "private", "work", "");
        assertThat(revisions).isEqualTo("000001\n");
        assertThat(read(pool.resolve("appvms/work/private.img"), 0, 9)).isEqualTo("PRIVATE-2");
        wire.ok("admin.vm.volume.Revert", "private", "work", "000001");
        assertThat(read(pool.resolve("appvms/work/private.img"), 0, 9)).isEqualTo("PRIVATE-1");
        assertThat(wire.error("admin.vm.volume.Revert", "private", "work", "999999")).isEqualTo("QubesException");
    }

    @Test
    void templateRoot_isCommittedAtStop_andAppVmsSeeItAtTheirNextStartOnly() throws Exception {
        wire.ok("admin.vm.Start", "", "work", "");
        wire.ok("admin.vm.Start", "", "fedora", "");
        write(disk("fedora", "xvda"), 0, "UPDATED");
        assertThat(wire.ok("admin.vm.volume.Info", "root", "work", "")).contains("is_outdated=False\n")
                .contains("source=vm-templates/fedora/root\n");
        wire.ok("admin.vm.Shutdown", "wait", "fedora", "");
        assertThat(wire.ok("admin.vm.volume.Info", "root", "work", "")).contains("is_outdated=True\n");
        assertThat(read(disk("work", "xvda"), 0, 7)).isEqualTo("\0".repeat(7));
        wire.ok("admin.vm.Shutdown", "wait", "work", "");
        wire.ok("admin.vm.Start", "", "work", "");
        assertThat(read(disk("work", "xvda"), 0, 7)).isEqualTo("UPDATED");
    }

    @Test
    void dispVm_snapshotsItsAppVmsPrivate_andIsRemovedWithItsVolumesWhenItStops() throws Exception {
        write(pool.resolve("appvms/work/private.img"), 0, "WORK-PRIVATE");
        wire.ok("admin.vm.property.Set", "template_for_dispvms", "work", "True");
        wire.ok("admin.vm.Create.DispVM", "work", "dom0", "name=disp7 label=red");
        wire.ok("admin.vm.property.Set", "auto_cleanup", "disp7", "True");
        wire.ok("admin.vm.Start", "", "disp7", "");
        assertThat(read(disk("disp7", "xvdb"), 0, 12)).isEqualTo("WORK-PRIVATE");
        write(disk("disp7", "xvdb"), 0, "DISP-WRITES!");
        wire.ok("admin.vm.Kill", "", "disp7", "");
        for (int i = 0; i < 500 && wire.call("admin.vm.List", "", "disp7", "").startsWith("0|"); i++) {
            Thread.sleep(10);
        }
        assertThat(wire.error("admin.vm.List", "", "disp7", "")).isEqualTo("QubesVMNotFoundError");
        assertThat(pool.resolve("appvms/disp7")).doesNotExist();
        assertThat(read(pool.resolve("appvms/work/private.img"), 0, 12)).isEqualTo("WORK-PRIVATE");
    }

    @Test
    void resize_growsTheImage_andRefusesShrinkingAndOddSizes() throws Exception {
        wire.ok("admin.vm.volume.Resize", "private", "work", Long.toString(3L << 30));
        assertThat(Files.size(pool.resolve("appvms/work/private.img"))).isEqualTo(3L << 30);
        assertThat(wire.ok("admin.vm.volume.Info", "private", "work", "")).contains("size=3221225472\n");
        assertThat(wire.error("admin.vm.volume.Resize", "private", "work", "1024")).isEqualTo("StoragePoolException");
        assertThat(wire.error("admin.vm.volume.Resize", "private", "work", "3221225473")).isEqualTo("QubesValueError");
        assertThat(wire.error("admin.vm.volume.Resize", "private", "work", "lots")).isEqualTo("ProtocolError");
        assertThat(wire.error("admin.vm.volume.Resize", "kernel", "work", "4096")).isEqualTo("QubesValueError");
        wire.ok("admin.vm.Start", "", "work", "");
        wire.ok("admin.vm.volume.Resize", "private", "work", Long.toString(4L << 30));
        assertThat(Files.size(disk("work", "xvdb"))).isEqualTo(4L << 30);
        wire.ok("admin.vm.Shutdown", "wait", "work", "");
        assertThat(Files.size(pool.resolve("appvms/work/private.img"))).isEqualTo(4L << 30);
        // the new size is stored: it survives a restart
        compartd.restart();
        assertThat(wire.ok("admin.vm.volume.Info", "private", "work", "")).contains("size=4294967296\n");
    }

    @Test
    void cloneFromCloneTo_copiesTheCommittedImageByReflink_withSingleUseTokens() throws Exception {
        write(pool.resolve("appvms/work/private.img"), 0, "TO-BE-CLONED");
        wire.ok("admin.vm.Create.AppVM", "fedora", "dom0", "name=copy label=green");
        String token = wire.ok("admin.vm.volume.CloneFrom", "private", "work", "");
        assertThat(token).matches("[0-9a-f]{64}");
        wire.ok("admin.vm.volume.CloneTo", "private", "copy", token);
        assertThat(read(pool.resolve("appvms/copy/private.img"), 0, 12)).isEqualTo("TO-BE-CLONED");
        assertThat(sharesExtents(pool.resolve("appvms/copy/private.img"))).isTrue();
        assertThat(wire.error("admin.vm.volume.CloneTo", "private", "copy", token)).isEqualTo("PermissionDenied");
        assertThat(wire.error("admin.vm.volume.CloneFrom", "volatile", "work", "")).isEqualTo("QubesValueError");
        wire.ok("admin.vm.Start", "", "copy", "");
        String t2 = wire.ok("admin.vm.volume.CloneFrom", "private", "work", "");
        assertThat(wire.error("admin.vm.volume.CloneTo", "private", "copy", t2)).isEqualTo("QubesVMNotHaltedError");
    }

    @Test
    void import_streamsDataLargerThanARequest_intoTheVolume_allOrNothing() throws Exception {
        byte[] data = new byte[1 << 20];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) ('A' + i % 26);
        }
        byte[] withSize = concat(("" + data.length + "\n").getBytes(StandardCharsets.US_ASCII), data);
        String r = new String(wire.raw("admin.vm.volume.ImportWithSize", "private", "dom0", "work", withSize),
                StandardCharsets.US_ASCII);
        assertThat(r).isEqualTo("0\0");
        assertThat(Files.readAllBytes(pool.resolve("appvms/work/private.img"))).isEqualTo(data);
        assertThat(wire.ok("admin.vm.volume.Info", "private", "work", "")).contains("size=1048576\n");

        byte[] second = data.clone();
        second[0] = 'Z';
        assertThat(new String(wire.raw("admin.vm.volume.Import", "private", "dom0", "work", second),
                StandardCharsets.US_ASCII)).isEqualTo("0\0");
        assertThat(read(pool.resolve("appvms/work/private.img"), 0, 2)).isEqualTo("ZB");

        String shortData = new String(wire.raw("admin.vm.volume.Import", "private", "dom0", "work",
                new byte[1000]), StandardCharsets.US_ASCII);
        assertThat(shortData).startsWith("2\0QubesValueError\0").contains("ended after 1000 of 1048576 bytes");
        assertThat(read(pool.resolve("appvms/work/private.img"), 0, 2)).as("the old image stays").isEqualTo("ZB");

        assertThat(wire.error("admin.vm.volume.ImportWithSize", "root", "work", "512\nx")).isEqualTo("QubesValueError");
        wire.ok("admin.vm.Start", "", "work", "");
        String running = new String(wire.raw("admin.vm.volume.Import", "private", "dom0", "work", data),
                StandardCharsets.US_ASCII);
        assertThat(running).startsWith("2\0QubesVMNotHaltedError\0");
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void volumeInfo_reportsRealUsage_andPoolInfoTheFilesystem() throws Exception {
        assertThat(wire.ok("admin.vm.volume.Info", "private", "work", "")).contains("usage=0\n");
        write(pool.resolve("appvms/work/private.img"), 0, "x".repeat(65536));
        assertThat(wire.ok("admin.vm.volume.Info", "private", "work", "")).contains("usage=65536\n")
                .contains("path=" + pool.resolve("appvms/work/private.img") + "\n");
        String info = wire.ok("admin.pool.Info", "varlibqubes", "dom0", "");
        assertThat(info).contains("driver=file-reflink\n").containsPattern("size=[0-9]{9,}\n")
                .doesNotContain("setup_check");
        assertThat(wire.ok("admin.pool.UsageDetails", "varlibqubes", "dom0", "")).startsWith("data_size=");
    }

    @Test
    void poolAdd_acceptsAReflinkDirectory_andRefusesExt4WithTheReason() throws Exception {
        wire.ok("admin.pool.Add", "file-reflink", "dom0", "name=fast\ndir_path=" + xfs.root().resolve("fast") + "\n");
        assertThat(wire.ok("admin.pool.List", "", "dom0", "")).contains("fast\n");
        String r = wire.call("admin.pool.Add", "file-reflink", "dom0", "name=slow\ndir_path=" + compartd.dir().resolve("slow"));
        assertThat(r).startsWith("2|StoragePoolException|").contains("cannot make reflink copies");
        assertThat(wire.ok("admin.pool.List", "", "dom0", "")).doesNotContain("slow");
        // a qube created in the new pool has its images there
        wire.ok("admin.vm.CreateInPool.AppVM", "fedora", "dom0", "name=elsewhere label=red pool:private=fast");
        assertThat(xfs.root().resolve("fast/appvms/elsewhere/private.img")).exists();
        wire.ok("admin.vm.Remove", "", "elsewhere", "");
        assertThat(xfs.root().resolve("fast/appvms/elsewhere")).doesNotExist();
    }

    @Test
    void restart_commitsVolumesOfQubesThatDiedWithTheDaemon_andRemovesOrphans() throws Exception {
        wire.ok("admin.vm.Start", "", "work", "");
        write(disk("work", "xvdb"), 0, "WRITTEN-BEFORE-CRASH");
        Files.createDirectories(pool.resolve("appvms/ghost"));
        Files.writeString(pool.resolve("appvms/ghost/private.img"), "left by an interrupted create");
        compartd.restart(); // the simulated domains are gone with the daemon
        assertThat(pool.resolve("appvms/work/private-dirty.img")).doesNotExist();
        assertThat(read(pool.resolve("appvms/work/private.img"), 0, 20)).isEqualTo("WRITTEN-BEFORE-CRASH");
        assertThat(pool.resolve("appvms/ghost")).doesNotExist();
        assertThat(wire.ok("admin.vm.CurrentState", "", "work", "")).endsWith("power_state=Halted");
    }

    // ---- qvm-pool set varlibqubes -o dedup=on: each commit is deduplicated in the background ----

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
