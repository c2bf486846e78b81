package compart.volumes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.xl.linux.LinuxFile;
import compart.xl.testing.LoopFileSystem;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every pool driver must have: the Qubes volume lifecycles of TemplateVMs, AppVMs, DispVMs and
 * StandaloneVMs, revisions and revert, import/export, resize, clone and a full pool. A subclass gives a fresh
 * pool on real storage for each test.
 */
public abstract class PoolContract {
    protected static final int MIB = 1 << 20;
    protected static final long SIZE = 8L * MIB;
    private static final AtomicInteger POOLS = new AtomicInteger();

    protected Pool pool;

    /** @return a fresh, empty pool named {@code name}, with the given extra options */
    protected abstract Pool newPool(String name, Map<String, String> options);

    /** @return where the pool's storage lives, to fill it up in the full-pool test (see {@link #occupy}) */
    protected abstract Path storageRoot();

    /**
     * Takes {@code bytes} of the pool's storage outside any volume until closed, to make the pool full. By default
     * a preallocated file in {@link #storageRoot()}; drivers without a filesystem override it.
     */
    protected AutoCloseable occupy(long bytes) throws Exception {
        Path filler = storageRoot().resolve("filler-" + pool.config().name());
        try (LinuxFile f = LinuxFile.open(filler, LinuxFile.Mode.CREATE_NEW)) {
            f.allocate(0, bytes);
            f.fsync();
        }
        return () -> {
            Files.delete(filler);
            LoopFileSystem.run("sync", "-f", storageRoot().toString());
        };
    }

    /** @return volume ids the pool must refuse */
    protected String[] badVolumeIds() {
        return new String[] {"../x", "a/../../b", "/abs", "a//b", "a/b-dirty", "a/b.img"};
    }

    /** Deletes the pool's storage and lets the filesystem free its space (btrfs frees at its next commit). */
    protected abstract void destroyPool(Pool pool) throws Exception;

    @BeforeEach
    public void freshPool() {
        pool = newPool("p" + POOLS.incrementAndGet(), Map.of());
    }

    @AfterEach
    public void destroyPool() throws Exception {
        destroyPool(pool);
    }

    // ---- helpers: a qube writes into its running volume's block device ----

    protected static byte[] pattern(int length, long seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    protected static void qubeWrites(Volume v, long offset, byte[] data) throws IOException {
        assertThat(v.isRunning()).as("%s is running", v.vid()).isTrue();
        try (FileChannel ch = FileChannel.open(v.blockDevicePath(), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data), offset);
        }
    }

    /** One run of the qube: starts {@code v}, writes {@code data} at {@code offset} as the qube would, stops it. */
    protected static void runWriting(Volume v, long offset, byte[] data) throws IOException {
        v.start();
        qubeWrites(v, offset, data);
        v.stop();
    }

    protected static byte[] qubeReads(Volume v, long offset, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(v.blockDevicePath(), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(length);
            ch.read(b, offset);
            return b.array();
        }
    }

    protected static byte[] committed(Volume v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        v.exportData(out);
        return out.toByteArray();
    }

    protected static byte[] slice(byte[] b, long offset, int length) {
        return Arrays.copyOfRange(b, (int) offset, (int) offset + length);
    }

    private Volume template() {
        Volume root = pool.volume("vm-templates/fedora/root", VolumeConfig.persistent("root", SIZE));
        root.create();
        return root;
    }

    private Volume appRoot() {
        return pool.volume("appvms/work/root", VolumeConfig.snapshot("root", SIZE, "vm-templates/fedora/root"));
    }

    // ---- TemplateVM / StandaloneVM: save_on_stop ----

    @Test
    public void persistentVolume_stop_commitsWhatTheQubeWrote() throws IOException {
        Volume root = template();
        runWriting(root, MIB, pattern(65536, 1));
        assertThat(root.isRunning()).isFalse();
        assertThat(slice(committed(root), MIB, 65536)).isEqualTo(pattern(65536, 1));
        assertThat(committed(root)).hasSize((int) SIZE);
    }

    @Test
    public void persistentVolume_commit_keepsThePreviousStateAsRevision() throws IOException {
        Volume root = template();
        runWriting(root, 0, pattern(4096, 1));
        runWriting(root, 0, pattern(4096, 2));
        assertThat(root.revisions()).hasSize(1);
        assertThat(slice(committed(root), 0, 4096)).isEqualTo(pattern(4096, 2));
    }

    @Test
    public void persistentVolume_startAfterCrashedRun_keepsTheUncommittedWrites() throws IOException {
        Volume priv = pool.volume("appvms/work/private", VolumeConfig.persistent("private", SIZE));
        priv.create();
        priv.start();
        qubeWrites(priv, 0, pattern(4096, 3));
        // dom0 crashes: no stop. The next start must not throw away what the qube wrote.
        Volume again = pool.volume("appvms/work/private", VolumeConfig.persistent("private", SIZE));
        again.start();
        assertThat(qubeReads(again, 0, 4096)).isEqualTo(pattern(4096, 3));
        again.stop();
        assertThat(slice(committed(again), 0, 4096)).isEqualTo(pattern(4096, 3));
    }

    @Test
    public void create_twice_isAlreadyExists_andStartWithoutCreate_isNotFound() {
        template();
        assertThatThrownBy(this::template).isInstanceOfSatisfying(CompartException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS));
        Volume missing = pool.volume("appvms/none/private", VolumeConfig.persistent("private", SIZE));
        assertThatThrownBy(missing::start).isInstanceOfSatisfying(CompartException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
    }

    // ---- AppVM root: snap_on_start ----

    @Test
    public void appVmRoot_start_snapshotsTheTemplatesCommittedRoot_andStopDiscardsChanges() throws IOException {
        Volume tpl = template();
        runWriting(tpl, 0, pattern(4096, 5));

        Volume root = appRoot();
        root.start();
        assertThat(qubeReads(root, 0, 4096)).isEqualTo(pattern(4096, 5));
        qubeWrites(root, 0, pattern(4096, 6));
        root.stop();
        assertThat(root.isRunning()).isFalse();
        assertThat(slice(committed(tpl), 0, 4096)).isEqualTo(pattern(4096, 5));

        root.start();
        assertThat(qubeReads(root, 0, 4096)).as("a fresh snapshot at every start").isEqualTo(pattern(4096, 5));
        root.stop();
    }

    @Test
    public void appVmRoot_isOutdated_afterTheTemplateCommits() throws IOException, InterruptedException {
        Volume tpl = template();
        Volume root = appRoot();
        root.start();
        assertThat(root.isOutdated()).isFalse();
        Thread.sleep(20); // mtimes must differ: the only sleep, for the filesystem's clock granularity
        runWriting(tpl, 0, pattern(4096, 7));
        assertThat(root.isOutdated()).isTrue();
        root.stop();
        assertThat(root.isOutdated()).isFalse();
    }

    @Test
    public void appVmRoot_ofTemplateWithoutImage_isNotFound() {
        assertThatThrownBy(() -> appRoot().start()).isInstanceOfSatisfying(CompartException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND)).hasMessageContaining("vm-templates/fedora/root");
    }

    // ---- volatile ----

    @Test
    public void volatileVolume_isEmptyAtEveryStart_andRemovedAtStop() throws IOException {
        Volume vol = pool.volume("appvms/work/volatile", VolumeConfig.volatileVolume("volatile", SIZE, true));
        vol.create();
        assertThat(vol.isRunning()).isFalse();
        vol.start();
        assertThat(vol.size()).isEqualTo(SIZE);
        qubeWrites(vol, 0, pattern(4096, 8));
        vol.stop();
        assertThat(vol.isRunning()).isFalse();
        assertThat(vol.blockDevicePath()).doesNotExist();
        vol.start();
        assertThat(qubeReads(vol, 0, 4096)).isEqualTo(new byte[4096]);
        vol.stop();
        assertThatThrownBy(() -> vol.exportData(new ByteArrayOutputStream())).isInstanceOfSatisfying(
                CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_STATE));
    }

    // ---- DispVM private: snapshot of its AppVM's private ----

    @Test
    public void dispVmPrivate_snapshotsTheAppVmsPrivate_andLeavesItUntouched() throws IOException {
        Volume appPriv = pool.volume("appvms/dvm-template/private", VolumeConfig.persistent("private", SIZE));
        appPriv.create();
        runWriting(appPriv, 0, pattern(4096, 9));

        Volume disp = pool.volume("appvms/disp42/private",
                VolumeConfig.snapshot("private", SIZE, "appvms/dvm-template/private"));
        disp.start();
        assertThat(qubeReads(disp, 0, 4096)).isEqualTo(pattern(4096, 9));
        qubeWrites(disp, 0, pattern(4096, 10));
        disp.stop();
        disp.remove();
        assertThat(slice(committed(appPriv), 0, 4096)).isEqualTo(pattern(4096, 9));
        assertThat(pool.volumeIds()).containsExactly("appvms/dvm-template/private");
    }

    // ---- StandaloneVM: a clone of the template, then independent ----

    @Test
    public void clone_copiesTheCommittedImage_andTheCopyIsIndependent() throws IOException {
        Volume tpl = template();
        runWriting(tpl, 2 * MIB, pattern(65536, 11));

        Volume standalone = pool.volume("appvms/standalone/root", VolumeConfig.persistent("root", SIZE));
        standalone.cloneFrom(tpl);
        assertThat(committed(standalone)).isEqualTo(committed(tpl));

        runWriting(standalone, 2 * MIB, pattern(65536, 12));
        assertThat(slice(committed(tpl), 2 * MIB, 65536)).isEqualTo(pattern(65536, 11));
        assertThat(slice(committed(standalone), 2 * MIB, 65536)).isEqualTo(pattern(65536, 12));
    }

    @Test
    public void clone_intoRunningVolume_isInvalidState() {
        Volume tpl = template();
        Volume other = pool.volume("appvms/x/root", VolumeConfig.persistent("root", SIZE));
        other.create();
        other.start();
        assertThatThrownBy(() -> other.cloneFrom(tpl)).isInstanceOfSatisfying(CompartException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_STATE));
        other.stop();
    }

    // ---- revisions and revert ----

    @Test
    public void revisions_areCappedAtRevisionsToKeep_oldestDroppedFirst() throws IOException {
        Volume priv = pool.volume("appvms/work/private", VolumeConfig.persistent("private", SIZE).withRevisionsToKeep(2));
        priv.create();
        for (int i = 1; i <= 4; i++) {
            runWriting(priv, 0, pattern(4096, 100 + i));
        }
        assertThat(priv.revisions()).hasSize(2);
        priv.revert(priv.revisions().getFirst().id());
        assertThat(slice(committed(priv), 0, 4096)).isEqualTo(pattern(4096, 102));
    }

    @Test
    public void revert_restoresTheRevision_andKeepsTheReplacedStateAsNewestRevision() throws IOException {
        Volume priv = pool.volume("appvms/work/private", VolumeConfig.persistent("private", SIZE).withRevisionsToKeep(3));
        priv.create();
        runWriting(priv, 0, pattern(4096, 21));
        runWriting(priv, 0, pattern(4096, 22));
        Revision first = priv.revisions().getLast();
        assertThat(priv.revisions()).hasSize(1);

        priv.revert(first.id());

        assertThat(slice(committed(priv), 0, 4096)).isEqualTo(pattern(4096, 21));
        Revision newest = priv.revisions().getLast();
        priv.revert(newest.id());
        assertThat(slice(committed(priv), 0, 4096)).isEqualTo(pattern(4096, 22));
    }

    @Test
    public void revert_toUnknownRevision_isNotFound_andWhileRunning_isInvalidState() {
        Volume priv = template();
        assertThatThrownBy(() -> priv.revert("999999")).isInstanceOfSatisfying(CompartException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
        priv.start();
        assertThatThrownBy(() -> priv.revert("999999")).isInstanceOfSatisfying(CompartException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_STATE));
        priv.stop();
    }

    // ---- import / export ----

    @Test
    public void import_replacesTheCommittedImage_andExportReturnsIt() {
        Volume priv = template();
        byte[] data = pattern(3 * MIB, 31);
        priv.importData(new ByteArrayInputStream(data), data.length);
        assertThat(committed(priv)).isEqualTo(data);
        assertThat(priv.config().size()).isEqualTo(data.length);
        assertThat(priv.size()).isEqualTo(data.length);
    }

    @Test
    public void import_ofShortStream_isRefused_andTheOldImageStays() {
        Volume priv = template();
        byte[] before = committed(priv);
        assertThatThrownBy(() -> priv.importData(new ByteArrayInputStream(new byte[4096]), 8192))
                .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_VALUE))
                .hasMessageContaining("ended after 4096 of 8192");
        assertThat(committed(priv)).isEqualTo(before);
        assertThat(priv.revisions()).isEmpty();
    }

    // ---- resize ----

    @Test
    public void resize_growsAStoppedAndARunningVolume_andRefusesToShrink() throws IOException {
        Volume priv = template();
        priv.resize(2 * SIZE);
        assertThat(priv.size()).isEqualTo(2 * SIZE);
        priv.start();
        priv.resize(3 * SIZE);
        assertThat(priv.size()).isEqualTo(3 * SIZE);
        qubeWrites(priv, 3 * SIZE - 4096, pattern(4096, 41));
        priv.stop();
        assertThat(committed(priv)).hasSize((int) (3 * SIZE));
        assertThat(priv.config().size()).isEqualTo(3 * SIZE);
        assertThatThrownBy(() -> priv.resize(SIZE)).isInstanceOfSatisfying(CompartException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_VALUE)).hasMessageContaining("shrink");
    }

    @Test
    public void resize_ofReadOnlyVolume_isRefused() {
        Volume ro = pool.volume("appvms/ro/root", new VolumeConfig("root", SIZE, false, false, true, null, 0, false));
        ro.create();
        assertThatThrownBy(() -> ro.resize(2 * SIZE)).isInstanceOfSatisfying(CompartException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_VALUE)).hasMessageContaining("read-only");
    }

    // ---- remove, listing, usage ----

    @Test
    public void remove_deletesImagesRevisionsAndEmptyDirectories() throws IOException {
        Volume priv = template();
        runWriting(priv, 0, pattern(4096, 51));
        priv.start();
        assertThat(pool.volumeIds()).containsExactly("vm-templates/fedora/root");
        assertThat(priv.usage()).isGreaterThanOrEqualTo(4096);
        priv.remove();
        assertThat(pool.volumeIds()).isEmpty();
        assertThat(priv.revisions()).isEmpty();
    }

    // ---- a full pool ----

    @Test
    public void fullPool_refusesCreateStartCloneAndImport_sayingWhatIsNeededAndFree() throws Exception {
        Volume tpl = template();
        PoolUsage u = pool.usage();
        assertThat(u.reserve()).isEqualTo(u.size() * 10 / 100);
        try (AutoCloseable filler = occupy(u.free() - u.reserve() / 2)) { // leaves half the reserve free
            Volume priv = pool.volume("appvms/work/private", VolumeConfig.persistent("private", SIZE));
            for (Runnable op : new Runnable[] {priv::create, tpl::start, () -> priv.cloneFrom(tpl),
                    () -> appRoot().start()}) {
                assertThatThrownBy(op::run).isInstanceOfSatisfying(CompartException.class,
                                e -> assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE))
                        .hasMessageContaining("is too full").hasMessageContaining("reserve").hasMessageContaining("free");
            }
            assertThat(pool.volumeIds()).containsExactly("vm-templates/fedora/root");
        }
        // an import bigger than what is free is refused before writing anything
        long tooBig = pool.usage().free();
        assertThatThrownBy(() -> tpl.importData(new ByteArrayInputStream(new byte[0]), tooBig))
                .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE))
                .hasMessageContaining("needs");
        assertThat(committed(tpl)).hasSize((int) SIZE);
    }

    // ---- the SPI ----

    @Test
    public void poolDriver_named_findsInstalledDrivers_andUnknownIsNotFound() {
        assertThat(PoolDriver.named(pool.config().driver()).name()).isEqualTo(pool.config().driver());
        assertThatThrownBy(() -> PoolDriver.named("no-such-driver")).isInstanceOfSatisfying(CompartException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND)).hasMessageContaining("file-reflink");
    }

    @Test
    public void volumeIds_thatEscapeThePool_areRefused() {
        for (String bad : badVolumeIds()) {
            assertThatThrownBy(() -> pool.volume(bad, VolumeConfig.persistent("root", SIZE)))
                    .as(bad).isInstanceOfSatisfying(CompartException.class,
                            e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_VALUE));
        }
    }
}
