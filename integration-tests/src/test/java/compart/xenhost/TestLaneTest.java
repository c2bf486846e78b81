package compart.xenhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TestLaneTest {
    private static final List<String> CLASSES = List.of("compart.xenhost.dom0.ScenarioIT",
            "compart.xenhost.dom0.QvmRunIT", "compart.xl.libxl.PvhGuestXenTest", "compart.xenhost.CacheKeyTest");

    @Test
    void twoLanes_runTheScenarioOnOneHost_andEveryOtherRealXenClassOnTheOther() {
        List<TestLane> lanes = TestLane.plan(RunSettings.DEFAULT_INCLUDE, 2, Optional.empty());

        assertThat(lanes).hasSize(2);
        assertThat(selected(lanes.get(0))).containsExactly("compart.xenhost.dom0.ScenarioIT");
        assertThat(selected(lanes.get(1))).containsExactly("compart.xenhost.dom0.QvmRunIT",
                "compart.xl.libxl.PvhGuestXenTest");
    }

    @Test
    void aNarrowerSelection_runsInOneLane_soNoHostBootsForNothing() {
        List<TestLane> lanes = TestLane.plan("^.+QvmRunIT$", 2, Optional.empty());

        assertThat(lanes).containsExactly(new TestLane(1, "^.+QvmRunIT$"));
    }

    @Test
    void aNarrowerSelection_withAFirstLaneGiven_isSplitAsTold() {
        List<TestLane> lanes = TestLane.plan("^.+(ScenarioIT|QvmRunIT|CacheKeyTest)$", 2,
                Optional.of("^.+QvmRunIT$"));

        assertThat(selected(lanes.get(0))).containsExactly("compart.xenhost.dom0.QvmRunIT");
        assertThat(selected(lanes.get(1))).containsExactly("compart.xenhost.dom0.ScenarioIT",
                "compart.xenhost.CacheKeyTest");
    }

    @Test
    void oneLane_runsTheWholeSelection() {
        assertThat(selected(TestLane.plan(RunSettings.DEFAULT_INCLUDE, 1, Optional.empty()).getFirst()))
                .containsExactly("compart.xenhost.dom0.ScenarioIT", "compart.xenhost.dom0.QvmRunIT",
                        "compart.xl.libxl.PvhGuestXenTest");
    }

    @Test
    void laneOne_keepsTheSingleLaneFileNames_otherLanesAreNumbered() {
        Path work = Path.of("/t/xenhost");
        assertThat(new TestLane(1, ".*").share(work)).isEqualTo(Path.of("/t/xenhost/share"));
        assertThat(new TestLane(1, ".*").serialLog(work)).isEqualTo(Path.of("/t/xenhost/serial.log"));
        assertThat(new TestLane(2, ".*").share(work)).isEqualTo(Path.of("/t/xenhost/share-2"));
        assertThat(new TestLane(2, ".*").serialLog(work)).isEqualTo(Path.of("/t/xenhost/serial-2.log"));
    }

    @Test
    void moreThanTwoLanes_orNone_isRefused() {
        assertThatThrownBy(() -> TestLane.plan(RunSettings.DEFAULT_INCLUDE, 3, Optional.empty()))
                .hasMessageContaining("1 or 2");
        assertThatThrownBy(() -> TestLane.plan(RunSettings.DEFAULT_INCLUDE, 0, Optional.empty()))
                .hasMessageContaining("1 or 2");
    }

    private static List<String> selected(TestLane lane) {
        return CLASSES.stream().filter(name -> name.matches(lane.includePattern())).toList();
    }
}
