package compart.xenhost;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Tests whose outcomes are known (one passes, one fails, one is skipped), run by {@link TestReportsTest}
 * through the real JUnit launcher to get a real report. Neither Surefire (name does not end in Test) nor the
 * dom0 run (does not end in IT) picks it up by itself.
 */
class ReportFixture {

    @Test
    void passes() {
        assertThat(1 + 1).isEqualTo(2);
    }

    @Test
    void fails() {
        assertThat("xen").as("deliberate failure of the fixture").isEqualTo("kvm");
    }

    @Test
    @Disabled("deliberately skipped by the fixture")
    void skipped() {}
}
