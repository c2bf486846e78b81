package compart.volumes.lvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.PoolConfig;
import compart.volumes.Volume;
import compart.volumes.VolumeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lvm_thin driver's cached lvs report: the real driver (pool, volumes, plans, cache) runs its commands through
 * the command seam into a {@link RecordingLvm}, which answers as LVM does and counts what ran. The same operations
 * against real LVM run in dom0: VolumesLvmThinIT.
 */
class LvsCacheTest {
    private static final long SIZE = 8 << 20;
    private static final String VG = "qubes_dom0";
    private static final String THIN = "pool00";

    @TempDir
    Path dir;
    private long nanos;

    private LvmThinPool open(RecordingLvm lvm, String name, Path backupDir) {
        Map<String, String> options = Map.of("volume_group", VG, "thin_pool", THIN,
                "lock_dir", dir.resolve("locks").toString(), "lvm_backup_dir", backupDir.toString());
        return LvmThinPool.open(new PoolConfig(name, "lvm_thin", options), lvm, () -> nanos);
    }

    /** The LVM of most tests: no metadata backup, so the cache lives by its own clock. */
    private RecordingLvm lvm;
    /** Pool {@code p} on {@link #lvm}. */
    private LvmThinPool pool;
    /** A persistent volume of {@link #pool}, not created yet. */
    private Volume priv;

    @BeforeEach
    void openPoolWithoutBackup() {
        lvm = new RecordingLvm(VG, THIN, 1L << 34, null);
        pool = open(lvm, "p", dir.resolve("no-backups"));
        priv = pool.volume("appvms/work/private", VolumeConfig.persistent("private", SIZE));
    }

    @Test
    void questionsAfterOneLvs_areAnsweredFromTheReport_withoutRunningLvm() {
        priv.create();
        assertThat(priv.isRunning()).isFalse();
        lvm.forget();

        priv.isRunning();
        priv.revisions();
        priv.size();
        priv.usage();
        pool.volumeIds();
        pool.usage();

        assertThat(lvm.actions()).isEmpty();
    }

    @Test
    void eachOfOurCommands_forgetsTheReport_soTheNextOperationReadsLvsOnce() {
        priv.create();
        lvm.forget();

        priv.start();
        assertThat(lvm.actions()).containsExactly("lvs", "lvcreate");
        lvm.forget();
        lvm.written(LvNames.lvName("p", "appvms/work/private") + LvNames.SNAP, 10);

        assertThat(priv.isRunning()).isTrue();
        priv.stop();
        assertThat(lvm.actions()).as("tag and stage the running copy, drop the new volume's empty image, install")
                .containsExactly("lvs", "lvchange", "lvrename", "lvremove", "lvrename");
        assertThat(priv.isRunning()).isFalse();
        assertThat(priv.revisions()).isEmpty(); // the empty image of a new volume is no revision
        assertThat(lvm.count("lvs")).isEqualTo(2);
    }

    @Test
    void aQubesStartsAndStops_runOneLvsPerOperation_andPrintTheCountsBeforeAndAfter() {
        Volume tplRoot = pool.volume("vm-templates/t/root", VolumeConfig.persistent("root", SIZE));
        tplRoot.create();
        lvm.written(LvNames.lvName("p", "vm-templates/t/root"), 40);
        Volume root = pool.volume("appvms/work/root", VolumeConfig.snapshot("root", SIZE, "vm-templates/t/root"));
        Volume vol = pool.volume("appvms/work/volatile", VolumeConfig.volatileVolume("volatile", SIZE, false));
        priv.create();
        LvsCache cache = LvsCache.of(lvm, "lvm", VG, dir.resolve("no-backups"), () -> nanos);
        long requestsBefore = cache.requests();
        lvm.forget();

        int operations = 0;
        for (int run = 0; run < 5; run++) {
            for (Volume v : new Volume[] {priv, root, vol}) {
                v.start();
                operations++;
            }
            for (Volume v : new Volume[] {priv, root, vol}) { // what qvm-ls, qvm-volume and a start's checks ask
                v.isRunning();
                v.isOutdated();
                v.usage();
                v.size();
                v.revisions();
            }
            lvm.written(LvNames.lvName("p", "appvms/work/private") + LvNames.SNAP, 10 + run);
            for (Volume v : new Volume[] {priv, root, vol}) {
                v.stop();
                operations++;
            }
        }

        long lvs = lvm.count("lvs");
        long asked = cache.requests() - requestsBefore;
        System.out.printf("COMPART-LVM-CACHE: 5 starts and stops of a qube's 3 volumes + 75 queries: %d lvm commands,"
                + " %d of them lvs; without the cache (one lvs per question): %d lvm commands, %d of them lvs%n",
                lvm.actions().size(), lvs, lvm.actions().size() - lvs + asked, asked);
        assertThat(lvs).as("one lvs per start or stop, none for the queries").isEqualTo(operations);
        assertThat(asked).as("questions to the report").isGreaterThan(3L * operations);
    }

    @Test
    void aVolumeRemovedBehindOurBack_isSeenWhenTheStopFailsOnTheCachedReport_whichIsReadOnceMore() {
        Volume root = pool.volume("appvms/work/root", VolumeConfig.volatileVolume("root", SIZE, false));
        root.start();
        assertThat(root.isRunning()).isTrue();
        String lv = LvNames.lvName("p", "appvms/work/root");
        lvm.byAnotherTool(LvmCommand.remove("lvm", VG, lv));
        lvm.forget();

        root.stop();

        assertThat(lvm.actions()).containsExactly("lvremove", "lvs");
        assertThat(root.isRunning()).isFalse();
        assertThat(lvm.names()).doesNotContain(lv);
    }

    @Test
    void aCommittedImageRemovedBehindOurBack_failsTheStart_afterOneMoreLvs_asNotFound() {
        priv.create();
        priv.isRunning();
        lvm.byAnotherTool(LvmCommand.remove("lvm", VG, LvNames.lvName("p", "appvms/work/private")));
        lvm.forget();

        assertThatThrownBy(priv::start).isInstanceOfSatisfying(CompartException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
        assertThat(lvm.actions()).containsExactly("lvcreate", "lvs");
    }

    @Test
    void withLvmsMetadataBackup_aVolumeMadeByAnotherTool_isSeenAtTheNextQuestion() throws Exception {
        Path backups = Files.createDirectories(dir.resolve("backup"));
        RecordingLvm backedUp = new RecordingLvm(VG, THIN, 1L << 34, backups);
        LvmThinPool withBackup = open(backedUp, "p", backups);
        assertThat(withBackup.volumeIds()).isEmpty();
        backedUp.forget();
        assertThat(withBackup.volumeIds()).isEmpty();
        assertThat(backedUp.actions()).isEmpty();

        backedUp.byAnotherTool(LvmCommand.create("lvm", VG, THIN, "vm-work-private", SIZE));

        assertThat(withBackup.volumeIds()).containsExactly("vm-work-private");
        assertThat(backedUp.actions()).containsExactly("lvs");
    }

    @Test
    void allocationFigures_olderThanThirtySeconds_areReadAnew_namesAreNot() {
        priv.create();
        assertThat(priv.usage()).isZero();
        lvm.written(LvNames.lvName("p", "appvms/work/private"), 50);
        lvm.forget();

        nanos += LvsCache.USAGE_AGE.toNanos();
        assertThat(priv.usage()).as("30 s old: still the report's").isZero();
        nanos += Duration.ofSeconds(1).toNanos();
        priv.revisions();
        assertThat(lvm.actions()).as("names of any age").isEmpty();

        assertThat(priv.usage()).isEqualTo(SIZE / 2);
        assertThat(lvm.actions()).containsExactly("lvs");
    }

    @Test
    void twoPoolsOnOneVolumeGroup_shareOneReport() {
        LvmThinPool a = open(lvm, "a", dir.resolve("no-backups"));
        LvmThinPool b = open(lvm, "b", dir.resolve("no-backups"));
        a.volume("x", VolumeConfig.persistent("private", SIZE)).create();
        lvm.forget();

        assertThat(b.volumeIds()).containsExactly("x");
        assertThat(a.volumeIds()).containsExactly("x");
        assertThat(lvm.actions()).containsExactly("lvs");
    }
}
