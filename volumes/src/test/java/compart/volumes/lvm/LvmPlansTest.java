package compart.volumes.lvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.VolumeConfig;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The lvm_thin state rules: which lvm commands each operation runs in each state. */
class LvmPlansTest {
    private static final long SIZE = 8 << 20;
    private static final long NOW = 1700000000L;
    private final LvmPlans plans = new LvmPlans("lvm", "vg", "pool");
    private final VolumeConfig persistent = VolumeConfig.persistent("private", SIZE);
    private final VolumeConfig snapshot = VolumeConfig.snapshot("root", SIZE, "vm-templates/t/root");
    private final VolumeConfig volatileVolume = VolumeConfig.volatileVolume("volatile", SIZE, false);

    /** A thin volume with some data in it. */
    private static LogicalVolume lv(String name, String... tags) {
        return new LogicalVolume("vg", name, "pool", SIZE, 12.5, "Vwi-a-tz--", "", Set.of(tags));
    }

    private static Map<String, LogicalVolume> lvs(LogicalVolume... v) {
        Map<String, LogicalVolume> m = new LinkedHashMap<>();
        Arrays.stream(v).forEach(x -> m.put(x.name(), x));
        return m;
    }

    private static List<String> lines(List<LvmCommand> cmds) {
        return cmds.stream().map(c -> String.join(" ", c.argv().subList(1, c.argv().size()))).toList();
    }

    @Test
    void start_ofAPersistentVolume_snapshotsTheCommittedImage_orKeepsTheRunningCopyOfACrashedRun() {
        assertThat(lines(plans.start("v", "a", persistent, null, lvs(lv("a"))))).containsExactly(
                "lvcreate --snapshot --setactivationskip=n --activate=y --name=a-snap -- vg/a");
        assertThat(plans.start("v", "a", persistent, null, lvs(lv("a"), lv("a-snap")))).isEmpty();
        assertThatThrownBy(() -> plans.start("v", "a", persistent, null, lvs())).isInstanceOfSatisfying(
                CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
    }

    @Test
    void start_ofASnapshotVolume_replacesAnOldSnapshotWithAFreshOneOfTheSource_grownToTheConfiguredSize() {
        VolumeConfig bigger = snapshot.withSize(2 * SIZE);
        assertThat(lines(plans.start("v", "r", bigger, "t", lvs(lv("t"), lv("r-snap"))))).containsExactly(
                "lvremove --force -- vg/r-snap",
                "lvcreate --snapshot --setactivationskip=n --activate=y --name=r-snap -- vg/t",
                "lvextend --size=16777216B -- vg/r-snap");
        assertThatThrownBy(() -> plans.start("v", "r", snapshot, "t", lvs())).isInstanceOfSatisfying(
                CompartException.class, e -> assertThat(e).hasMessageContaining("vm-templates/t/root"));
    }

    @Test
    void start_ofAVolatileVolume_isAFreshEmptyVolume() {
        assertThat(lines(plans.start("v", "x", volatileVolume, null, lvs(lv("x"))))).containsExactly(
                "lvremove --force -- vg/x",
                "lvcreate --thin --setactivationskip=n --activate=y --name=x --virtualsize=8388608B -- vg/pool");
    }

    @Test
    void stop_ofAPersistentVolume_stagesTheRunningCopy_andInstallsIt_keepingTheOldImageAsRevision() {
        assertThat(lines(plans.stop("a", persistent, lvs(lv("a"), lv("a-snap")), 1, NOW))).containsExactly(
                "lvchange --addtag=compart_staged -- vg/a-snap",
                "lvrename -- vg/a-snap vg/a-import",
                "lvrename -- vg/a vg/a-1700000000-back",
                "lvrename -- vg/a-import vg/a");
        assertThat(plans.stop("a", persistent, lvs(lv("a")), 1, NOW)).as("not running").isEmpty();
    }

    @Test
    void install_dropsTheOldestRevisionsBeyondTheNumberKept_andKeepsNoneWhenAskedForNone() {
        Map<String, LogicalVolume> state = lvs(lv("a"), lv("a-import", LvmCommand.STAGED_TAG),
                lv("a-1600000000-back"), lv("a-1500000000-back"));
        assertThat(lines(plans.install("a", state, 2, NOW))).containsExactly(
                "lvrename -- vg/a vg/a-1700000000-back",
                "lvrename -- vg/a-import vg/a",
                "lvremove --force -- vg/a-1500000000-back");
        assertThat(lines(plans.install("a", lvs(lv("a"), lv("a-import")), 0, NOW))).containsExactly(
                "lvremove --force -- vg/a",
                "lvrename -- vg/a-import vg/a");
        LogicalVolume empty = new LogicalVolume("vg", "a", "pool", SIZE, 0, "Vwi-a-tz--", "", Set.of());
        assertThat(lines(plans.install("a", lvs(empty, lv("a-import")), 2, NOW))).as("a never written image")
                .containsExactly("lvremove --force -- vg/a", "lvrename -- vg/a-import vg/a");
    }

    @Test
    void repair_rollsACompleteStagedImageForward_andAPartialOneBack() {
        assertThat(lines(plans.repair("a", lvs(lv("a-1700000000-back"), lv("a-import", LvmCommand.STAGED_TAG)), 1, NOW)))
                .as("crashed after the old image became a revision").containsExactly("lvrename -- vg/a-import vg/a");
        assertThat(lines(plans.repair("a", lvs(lv("a"), lv("a-import")), 1, NOW)))
                .as("crashed while importing").containsExactly("lvremove --force -- vg/a-import");
        assertThat(plans.repair("a", lvs(lv("a"), lv("a-snap")), 1, NOW)).isEmpty();
    }

    @Test
    void stop_ofASnapshotOrVolatileVolume_discardsWhatRan() {
        assertThat(lines(plans.stop("r", snapshot, lvs(lv("t"), lv("r-snap")), 1, NOW)))
                .containsExactly("lvremove --force -- vg/r-snap");
        assertThat(lines(plans.stop("x", volatileVolume, lvs(lv("x")), 1, NOW))).containsExactly("lvremove --force -- vg/x");
    }

    @Test
    void revert_stagesASnapshotOfTheRevision_andInstallsIt_orIsNotFound() {
        Map<String, LogicalVolume> state = lvs(lv("a"), lv("a-1600000000-back"));
        assertThat(lines(plans.revert("v", "a", "1600000000-back", state, 2, NOW))).containsExactly(
                "lvcreate --snapshot --setactivationskip=n --activate=y --name=a-import"
                        + " --addtag=compart_staged -- vg/a-1600000000-back",
                "lvrename -- vg/a vg/a-1700000000-back",
                "lvrename -- vg/a-import vg/a");
        for (String unknown : new String[] {"1500000000-back", "999999"}) {
            assertThatThrownBy(() -> plans.revert("v", "a", unknown, state, 2, NOW)).isInstanceOfSatisfying(
                    CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
        }
    }

    @Test
    void clone_stagesASnapshotOfTheSource() {
        assertThat(lines(plans.cloneFrom("t", "a", lvs(lv("t")), 1, NOW))).containsExactly(
                "lvcreate --snapshot --setactivationskip=n --activate=y --name=a-import"
                        + " --addtag=compart_staged -- vg/t",
                "lvrename -- vg/a-import vg/a");
    }

    @Test
    void resize_growsTheRunningCopy_orTheCommittedImage_andNeverShrinks() {
        assertThat(lines(plans.resize("a", persistent, 2 * SIZE, lvs(lv("a"), lv("a-snap")))))
                .containsExactly("lvextend --size=16777216B -- vg/a-snap");
        assertThat(lines(plans.resize("a", persistent, 2 * SIZE, lvs(lv("a")))))
                .containsExactly("lvextend --size=16777216B -- vg/a");
        assertThat(plans.resize("a", persistent, SIZE, lvs(lv("a")))).isEmpty();
        assertThat(plans.resize("r", snapshot, 2 * SIZE, lvs(lv("r")))).as("a stopped snapshot volume has no image").isEmpty();
    }

    @Test
    void remove_removesTheRunningCopyTheStageTheRevisionsAndTheImage() {
        assertThat(lines(plans.remove("a", lvs(lv("a"), lv("a-snap"), lv("a-import"), lv("a-1-back"), lv("ab")))))
                .containsExactly("lvremove --force -- vg/a-snap", "lvremove --force -- vg/a-import",
                        "lvremove --force -- vg/a-1-back", "lvremove --force -- vg/a");
    }

    @Test
    void aRunningSnapshot_isOutdated_onceItsOriginIsNoLongerTheSource() {
        LogicalVolume snap = new LogicalVolume("vg", "r-snap", "pool", SIZE, 0, "Vwi-a-tz--", "t", Set.of());
        assertThat(LvmPlans.isOutdated("r", snapshot, "t", lvs(lv("t"), snap))).isFalse();
        LogicalVolume moved = new LogicalVolume("vg", "r-snap", "pool", SIZE, 0, "Vwi-a-tz--", "t-1700000000-back", Set.of());
        assertThat(LvmPlans.isOutdated("r", snapshot, "t", lvs(lv("t"), moved))).isTrue();
        assertThat(LvmPlans.isOutdated("r", snapshot, "t", lvs(lv("t")))).as("not running").isFalse();
        assertThat(LvmPlans.isRunning("r", snapshot, lvs(snap))).isTrue();
        assertThat(LvmPlans.isRunning("x", volatileVolume, lvs(lv("x")))).isTrue();
    }
}
