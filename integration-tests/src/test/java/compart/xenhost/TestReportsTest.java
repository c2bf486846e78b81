package compart.xenhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.reporting.legacy.xml.LegacyXmlReportGeneratingListener;

class TestReportsTest {

    /** Runs the fixture with the real JUnit launcher and its legacy XML listener, like the console launcher does. */
    private static Path realReports(Path dir, Class<?>... classes) throws Exception {
        Path reports = Files.createDirectories(dir.resolve("junit"));
        var builder = LauncherDiscoveryRequestBuilder.request();
        for (Class<?> type : classes) {
            builder.selectors(selectClass(type));
        }
        var listener = new LegacyXmlReportGeneratingListener(reports, new PrintWriter(new StringWriter()));
        LauncherFactory.create().execute(builder.build(), listener);
        return reports;
    }

    @Test
    void realJunitReport_isSplitPerClass_withCountsFailuresAndASummary(@TempDir Path dir) throws Exception {
        Path failsafe = dir.resolve("failsafe-reports");

        TestReports.Collected collected = TestReports.collect(realReports(dir, ReportFixture.class), failsafe, 1);

        assertThat(collected.perClass()).containsOnlyKeys(ReportFixture.class.getName());
        assertThat(collected.total()).isEqualTo(new TestReports.Counts(3, 1, 0, 1));
        assertThat(collected.failures()).singleElement().satisfies(failure -> {
            assertThat(failure.testName()).isEqualTo("fails()");
            assertThat(failure.kind()).isEqualTo("failure");
            assertThat(failure.message()).contains("deliberate failure of the fixture");
        });
        String classReport = Files.readString(failsafe.resolve("TEST-" + ReportFixture.class.getName() + ".xml"));
        assertThat(classReport).contains("<testsuite", "name=\"" + ReportFixture.class.getName() + "\"",
                "tests=\"3\"", "failures=\"1\"", "skipped=\"1\"", "passes()");
        assertThat(Files.readString(failsafe.resolve("failsafe-summary.xml")))
                .contains("result=\"255\"", "<completed>3</completed>", "<failures>1</failures>",
                        "<errors>0</errors>", "<skipped>1</skipped>");
    }

    @Test
    void greenRun_writesASummaryWithoutAFailureResult(@TempDir Path dir) throws Exception {
        Path junit = Files.createDirectories(dir.resolve("junit"));
        Files.writeString(junit.resolve("TEST-junit-jupiter.xml"), """
                <?xml version="1.0" encoding="UTF-8"?>
                <testsuite name="JUnit Jupiter" tests="2" skipped="0" failures="0" errors="0" time="1.5">
                <testcase name="a()" classname="x.AIT" time="1.0"/>
                <testcase name="b()" classname="x.BIT" time="0.5"/>
                </testsuite>
                """);

        var collected = TestReports.collect(junit, dir.resolve("out"), 0);

        assertThat(collected.perClass().keySet()).containsExactly("x.AIT", "x.BIT");
        assertThat(collected.total().green()).isTrue();
        assertThat(Files.readString(dir.resolve("out/failsafe-summary.xml")))
                .doesNotContain("result=").contains("<completed>2</completed>");
        assertThat(dir.resolve("out/TEST-x.AIT.xml")).exists();
    }

    @Test
    void launcherFailure_withoutAFailedTest_isAnError_neverGreen(@TempDir Path dir) throws Exception {
        var collected = TestReports.collect(dir.resolve("no-reports"), dir.resolve("out"), 2);

        assertThat(collected.total()).isEqualTo(new TestReports.Counts(1, 0, 1, 0));
        assertThat(collected.failures()).singleElement()
                .satisfies(f -> assertThat(f.message()).contains("exited with 2", "reported no tests"));
        assertThat(Files.readString(dir.resolve("out/failsafe-summary.xml"))).contains("<errors>1</errors>");
    }

    @Test
    void countsPrint_likeSurefire() {
        assertThat(new TestReports.Counts(11, 1, 2, 3))
                .hasToString("Tests run: 11, Failures: 1, Errors: 2, Skipped: 3");
    }

    @Test
    void twoLanes_giveOneSummary_andALaneWhoseLauncherFailedSilently_isAnError(@TempDir Path dir) throws Exception {
        Path laneOne = dir.resolve("share/out/junit");
        Files.createDirectories(laneOne);
        Files.writeString(laneOne.resolve("TEST-junit-jupiter.xml"), """
                <?xml version="1.0" encoding="UTF-8"?>
                <testsuite name="JUnit Jupiter" tests="1" skipped="0" failures="0" errors="0" time="1.0">
                <testcase name="a()" classname="x.ScenarioIT" time="1.0"/>
                </testsuite>
                """);

        var collected = TestReports.collect(Map.of(laneOne, 0, dir.resolve("share-2/out/junit"), 1),
                dir.resolve("out"));

        assertThat(collected.perClass()).containsKey("x.ScenarioIT");
        assertThat(collected.total()).isEqualTo(new TestReports.Counts(2, 0, 1, 0));
        assertThat(collected.failures()).singleElement()
                .satisfies(f -> assertThat(f.message()).contains("exited with 1", "share-2"));
        assertThat(Files.readString(dir.resolve("out/failsafe-summary.xml"))).contains("<completed>2</completed>");
    }
}
