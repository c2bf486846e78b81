package compart.cli.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** The Python-style message formatting of daemon errors. */
class PercentFormatTest {
    @Property
    void withoutArguments_theFormatIsTheMessage(@ForAll String format) {
        assertThat(PercentFormat.apply(format, List.of())).isEqualTo(format);
    }

    @Property
    void eachPercentS_takesTheNextArgument(@ForAll String a, @ForAll String b) {
        assertThat(PercentFormat.apply("x %s y %s z", List.of(a, b))).isEqualTo("x " + a + " y " + b + " z");
    }
}
