package compart.core.memory;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MeminfoReportTest {
    @Test
    void aPlainFigureInKibIsTheUsedMemoryInBytes() {
        assertThat(MeminfoReport.parse("4096")).isEqualTo(OptionalLong.of(4096 * 1024));
        assertThat(MeminfoReport.parse("0")).isEqualTo(OptionalLong.of(0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a4096", "4096a", "4096 1024", "4096\n1024", " 4096", "4096\n", "+4096", "-4096",
            "4096.5", "0x1000", "\u0664\u0660\u0669\u0666", "４０９６"})
    void anythingButPlainAsciiDigitsIsNoReport(String untrusted) {
        assertThat(MeminfoReport.parse(untrusted)).isEmpty();
    }

    @Test
    void aMissingNodeIsNoReport() {
        assertThat(MeminfoReport.parse(null)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"99999999999999999999999999", "9223372036854775807", "18446744073709551616",
            "1073741825", "00000000001"})
    void absurdlyLargeOrLongFiguresAreNoReportRatherThanAnOverflow(String untrusted) {
        assertThat(MeminfoReport.parse(untrusted)).isEmpty();
    }

    @Test
    void theLargestBelievedUseIsOneTib() {
        assertThat(MeminfoReport.parse("1073741824")).isEqualTo(OptionalLong.of(1L << 40));
    }
}
