package compart.volumes.lvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LvsReportTest {
    private static String golden(String name) throws IOException {
        try (InputStream in = LvsReportTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void parse_readsEveryVolume_sizesInBytes_withOrWithoutTheBSuffix() throws IOException {
        List<LogicalVolume> lvs = LvsReport.parse(golden("lvs-qubes.json"));

        assertThat(lvs).hasSize(7);
        LogicalVolume pool = lvs.getFirst();
        assertThat(pool).isEqualTo(new LogicalVolume("qubes_dom0", "pool00", "", 21474836480L, 12.5, "twi-aotz--", "",
                Set.of()));
        assertThat(pool.isThinPool()).isTrue();
        assertThat(pool.usedBytes()).isEqualTo(2684354560L);
        assertThat(lvs.get(2).size()).as("4294967296B").isEqualTo(4294967296L);
        assertThat(lvs.get(2).dataPercent()).as("empty data_percent of a linear LV").isZero();
        assertThat(lvs.get(3).tags()).containsExactly(LvmCommand.STAGED_TAG);
        assertThat(lvs.get(5).tags()).containsExactlyInAnyOrder("a", "b");
        assertThat(lvs.get(5).origin()).isEqualTo("vm-templates+fedora+root-1700000000-back");
        assertThat(lvs.get(4).isActive()).isFalse();
        assertThat(lvs.get(5).isActive()).isTrue();
    }

    @Test
    void parse_ofAnEmptyVolumeGroup_isEmpty_andOfGarbage_isAStorageError() {
        assertThat(LvsReport.parse("{\"report\": [{\"lv\": []}]}")).isEmpty();
        assertThatThrownBy(() -> LvsReport.parse("  Volume group \"x\" not found")).isInstanceOfSatisfying(
                CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE));
        assertThatThrownBy(() -> LvsReport.parse("{\"report\":[{\"lv\":[{\"vg_name\":\"v\",\"lv_name\":\"x\","
                + "\"lv_size\":\"12k\"}]}]}")).isInstanceOfSatisfying(CompartException.class,
                e -> assertThat(e.getMessage()).contains("12k"));
    }
}
