package compart.cli.format;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.NotEmpty;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** Tables laid out as {@code column -t} does, which Qubes' tools use. */
class TableTest {
    @Test
    void render_padsEveryColumnButTheLast_withTwoSpaces() {
        String table = Table.render(List.of(List.of("NAME", "STATE", "CLASS"),
                List.of("dom0", "Running", "AdminVM"), List.of("sys-net-long", "Halted", "-")));

        assertThat(table).isEqualTo("""
                NAME          STATE    CLASS
                dom0          Running  AdminVM
                sys-net-long  Halted   -
                """);
    }

    @Test
    void render_countsCodePoints_notUtf16Units() {
        assertThat(Table.render(List.of(List.of("└─a", "x"), List.of("bbb", "y")))).isEqualTo("└─a  x\nbbb  y\n");
    }

    @Property
    void everyColumnStartsAtTheSameOffsetInEveryRow(
            @ForAll @Size(min = 1, max = 6) List<@Size(3) List<@AlphaChars @NotEmpty String>> rows) {
        String[] lines = Table.render(rows).split("\n");
        int secondColumn = rows.stream().mapToInt(r -> r.getFirst().length()).max().orElseThrow() + 2;
        for (int i = 0; i < lines.length; i++) {
            assertThat(lines[i].substring(secondColumn)).startsWith(rows.get(i).get(1));
        }
    }
}
