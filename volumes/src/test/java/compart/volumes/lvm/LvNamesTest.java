package compart.volumes.lvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import net.jqwik.api.constraints.Chars;
import net.jqwik.api.constraints.CharRange;
import org.junit.jupiter.api.Test;

class LvNamesTest {
    @Test
    void aPathVid_isOneLvName_andAQubesName_isItself() {
        assertThat(LvNames.lvName("p", "appvms/work/private")).isEqualTo("appvms+work+private");
        assertThat(LvNames.vid("appvms+work+private")).isEqualTo("appvms/work/private");
        assertThat(LvNames.lvName("p", "vm-work-private")).isEqualTo("vm-work-private");
    }

    @Test
    void vidsThatEscapeOrCollideWithThePoolsOwnNames_areRefused() {
        for (String bad : new String[] {"", "../x", "a/../../b", "/abs", "a//b", "a/b-snap", "a/b-import",
                "a/b-1700000000-back", "a+b", "snapshot0", "x".repeat(121)}) {
            assertThatThrownBy(() -> LvNames.lvName("p", bad)).as(bad).isInstanceOfSatisfying(CompartException.class,
                    e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_VALUE));
        }
    }

    @Test
    void revisions_ofAVolume_areItsBackVolumes_oldestFirst_notThoseOfAVolumeWithALongerName() {
        List<String> lvs = List.of("a", "a-snap", "a-1700000100-back", "a-1700000005-back", "a-import",
                "a-b-1700000000-back", "ab-1700000000-back");
        assertThat(LvNames.revisions("a", lvs)).containsExactly("1700000005-back", "1700000100-back");
        assertThat(LvNames.revisions("a-b", lvs)).containsExactly("1700000000-back");
        assertThat(LvNames.timestamp("1700000005-back").getEpochSecond()).isEqualTo(1700000005L);
    }

    @Test
    void nextRevision_isNow_orOneSecondAfterTheNewest_soTwoCommitsInOneSecondDoNotCollide() {
        assertThat(LvNames.nextRevision(List.of(), 1700000000L)).isEqualTo("1700000000-back");
        assertThat(LvNames.nextRevision(List.of("1700000000-back"), 1700000000L)).isEqualTo("1700000001-back");
        assertThat(LvNames.nextRevision(List.of("1700000000-back"), 1700000050L)).isEqualTo("1700000050-back");
    }

    @Test
    void isVolume_leavesOutRunningCopiesImportsAndRevisions() {
        assertThat(List.of("a", "a-snap", "a-import", "a-1-back", "b+c").stream().filter(LvNames::isVolume))
                .containsExactly("a", "b+c");
    }

    @Property
    void everyValidVid_mapsToAnLvName_andBack(@ForAll @Size(min = 1, max = 4) List<@StringLength(min = 1, max = 12)
            @Chars({'a', 'Z', '0', '9', '_', '.', '-'}) @CharRange(from = 'a', to = 'f') String> parts) {
        String vid = String.join("/", parts);
        String name;
        try {
            name = LvNames.lvName("p", vid);
        } catch (CompartException e) {
            assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_VALUE);
            return;
        }
        assertThat(name).doesNotContain("/");
        assertThat(LvNames.vid(name)).isEqualTo(vid);
    }
}
