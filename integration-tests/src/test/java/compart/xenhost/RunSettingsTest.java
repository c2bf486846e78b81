package compart.xenhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunSettingsTest {
    private static final List<String> POM_ARGS = List.of("target=/p/target", "jdk=/jdk", "cache=",
            "mirror=http://m/debian", "timeout.minutes=30", "include=^.+IT$", "tags=xen", "skip=false,false,false");

    @Test
    void pomArguments_giveThePathsOfTheRun() {
        RunSettings settings = RunSettings.parse(POM_ARGS, Map.of(), "/root");

        assertThat(settings.share()).isEqualTo(Path.of("/p/target/xenhost/share"));
        assertThat(settings.lib()).isEqualTo(Path.of("/p/target/xenhost/lib"));
        assertThat(settings.testClasses()).isEqualTo(Path.of("/p/target/test-classes"));
        assertThat(settings.failsafeReports()).isEqualTo(Path.of("/p/target/failsafe-reports"));
        assertThat(settings.timeout()).isEqualTo(Duration.ofMinutes(30));
        assertThat(settings.mirror()).isEqualTo("http://m/debian");
        assertThat(settings.tagExpression()).isEqualTo("xen");
        assertThat(settings.skipReason()).isEmpty();
        assertThat(settings.ci()).isFalse();
    }

    @Test
    void withoutIncludeOrTags_theRealXenTestsOfAllModulesRun_withNoTagFilter() {
        RunSettings settings = RunSettings.parse(List.of("target=/t"), Map.of(), "/root");

        assertThat(settings.includePattern()).isEqualTo("^.+(IT|XenTest)$");
        assertThat("compart.xenhost.dom0.XenHostIT").matches(settings.includePattern());
        assertThat("compart.xl.libxl.PvhGuestXenTest").matches(settings.includePattern());
        assertThat("compart.xenhost.CacheKeyTest").doesNotMatch(settings.includePattern());
        assertThat(settings.tagExpression()).isEmpty();
    }

    @Test
    void qubesGuestSources_areBesideTheClone_unlessGiven() {
        assertThat(RunSettings.parse(List.of("target=/ci/clone/integration-tests/target", "qubesGuestSrc="), Map.of(),
                "/root").qubesGuestSrc()).isEqualTo(Path.of("/ci/shared/qubes-guest-src"));
        assertThat(RunSettings.parse(List.of("target=/t/m/target", "qubesGuestSrc=/src/qubes"), Map.of(), "/root")
                .qubesGuestSrc()).isEqualTo(Path.of("/src/qubes"));
    }

    @Test
    void blankCache_meansXdgCacheHome_orHomeDotCache() {
        assertThat(RunSettings.parse(POM_ARGS, Map.of(), "/root").cache())
                .isEqualTo(Path.of("/root/.cache/compart-xenhost"));
        assertThat(RunSettings.parse(POM_ARGS, Map.of("XDG_CACHE_HOME", "/var/cache/ci"), "/root").cache())
                .isEqualTo(Path.of("/var/cache/ci/compart-xenhost"));
    }

    @Test
    void eachSkipFlag_namesItselfAsTheReason() {
        assertThat(parseWithSkip("true,false,false").skipReason()).contains("-DskipTests");
        assertThat(parseWithSkip("false,true,false").skipReason()).contains("-DskipITs");
        assertThat(parseWithSkip("false,false,true").skipReason()).contains("-Dmaven.test.skip");
    }

    @Test
    void ciTrue_inTheEnvironment_isNoticed() {
        assertThat(RunSettings.parse(POM_ARGS, Map.of("CI", "true"), "/root").ci()).isTrue();
    }

    @Test
    void argumentsWithoutKey_orWithoutTarget_areRefused() {
        assertThatThrownBy(() -> RunSettings.parse(List.of("target"), Map.of(), "/root"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key=value");
        assertThatThrownBy(() -> RunSettings.parse(List.of("jdk=/j"), Map.of(), "/root"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("target");
    }

    private static RunSettings parseWithSkip(String flags) {
        var args = new java.util.ArrayList<>(POM_ARGS.subList(0, POM_ARGS.size() - 1));
        args.add("skip=" + flags);
        return RunSettings.parse(args, Map.of(), "/root");
    }

    @Test
    void lanesOtherThanOneOrTwo_areRefused_namingTheProperty() {
        assertThatThrownBy(() -> RunSettings.parse(List.of("target=/t", "lanes=many"), Map.of(), "/root"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("compart.xenhost.lanes is 1 or 2, not 'many'");
        assertThat(RunSettings.parse(List.of("target=/t", "lanes=1"), Map.of(), "/root").testLanes()).hasSize(1);
    }
}
