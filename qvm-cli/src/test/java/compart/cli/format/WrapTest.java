package compart.cli.format;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class WrapTest {
    @Test
    void fill_keepsPaddingInsideALine_andIndentsContinuations() {
        String text = Wrap.fill("netvm     the qube that provides network to this one, or none for no network at all",
                40, "  ", "        ");

        assertThat(text).isEqualTo("  netvm     the qube that provides\n"
                + "        network to this one, or none for\n"
                + "        no network at all");
    }

    @Property
    void noLineIsLongerThanTheWidth_unlessOneWordIs(@ForAll @StringLength(max = 300) String text) {
        int width = 30;
        for (String line : Wrap.fill(text, width, "  ", "    ").split("\n")) {
            boolean oneWord = line.strip().split("\\s+").length == 1;
            assertThat(line.length() <= width || oneWord).as(line).isTrue();
        }
    }
}
