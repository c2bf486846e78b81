package compart.xenhost;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The settings of one {@link XenHostRun}, from {@code key=value} arguments (the pom passes them).
 *
 * @param target         the module's {@code target} directory
 * @param jdk            the JDK to jlink into dom0 (Maven's {@code java.home})
 * @param cache          the image cache directory
 * @param mirror         the Debian mirror
 * @param timeout        deadline of the QEMU run
 * @param includePattern class-name pattern of the in-dom0 tests
 * @param tagExpression  JUnit tag expression the in-dom0 tests must also match; blank = none
 * @param skipReason     why the run is skipped (-DskipTests, -DskipITs, -Dmaven.test.skip), if it is
 * @param ci             running in CI ({@code CI=true}): missing prerequisites fail the build instead of skipping
 * @param dist           where packaging's {@code -Pdist} build leaves the .deb ({@code packaging/target}), if given
 * @param lanes          how many Xen hosts boot at once, each on its own core ({@link TestLane}; 1 or 2)
 * @param firstLane      class-name pattern of lane 1's classes when there are two lanes, if given
 * @param qubesGuestSrc  the pinned upstream tarballs of Qubes' guest software the Debian guest template is built
 *                       from: argument {@code qubesGuestSrc}, else {@code ../shared/qubes-guest-src} beside the
 *                       project root (the directory above {@code target}'s module)
 */
public record RunSettings(Path target, Path jdk, Path cache, String mirror, Duration timeout,
                          String includePattern, String tagExpression, Optional<String> skipReason, boolean ci,
                          Optional<Path> dist, int lanes, Optional<String> firstLane, Path qubesGuestSrc) {

    /** The real-Xen tests: {@code *IT} in this module, {@code *XenTest} in other modules' test jars. */
    public static final String DEFAULT_INCLUDE = "^.+(IT|XenTest)$";

    private static final List<String> SKIP_FLAGS = List.of("-DskipTests", "-DskipITs", "-Dmaven.test.skip");

    /**
     * @param args     {@code key=value}: target, jdk, cache (blank = default), mirror, timeout.minutes,
     *                 include, tags, skip (three booleans: skipTests,skipITs,maven.test.skip), dist,
     *                 lanes (default 2 on a machine with two cores, else 1), lane1 (default: {@link TestLane#DEFAULT_FIRST_LANE}),
     *                 qubesGuestSrc (blank = {@link #defaultQubesGuestSrc})
     * @param env      the environment (for XDG_CACHE_HOME)
     * @param userHome the user's home
     */
    public static RunSettings parse(List<String> args, Map<String, String> env, String userHome) {
        var values = new HashMap<String, String>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("arguments are key=value, not '" + arg + "'");
            }
            values.put(arg.substring(0, eq), arg.substring(eq + 1).trim());
        }
        String cache = values.getOrDefault("cache", "");
        Optional<String> skip = Optional.empty();
        String[] flags = values.getOrDefault("skip", "").split(",");
        for (int i = 0; i < flags.length && i < SKIP_FLAGS.size(); i++) {
            if (flags[i].trim().equalsIgnoreCase("true")) {
                skip = Optional.of(SKIP_FLAGS.get(i));
                break;
            }
        }
        Path target = Path.of(required(values, "target"));
        String guestSrc = values.getOrDefault("qubesGuestSrc", "");
        return new RunSettings(
                target,
                Path.of(values.getOrDefault("jdk", System.getProperty("java.home"))),
                cache.isBlank() || cache.startsWith("${") ? ImageBuilder.defaultCache(env, userHome) : Path.of(cache),
                values.getOrDefault("mirror", "http://deb.debian.org/debian"),
                Duration.ofMinutes(Long.parseLong(values.getOrDefault("timeout.minutes", "55"))),
                values.getOrDefault("include", DEFAULT_INCLUDE),
                values.getOrDefault("tags", "").startsWith("${") ? "" : values.getOrDefault("tags", ""),
                skip,
                "true".equalsIgnoreCase(env.getOrDefault("CI", "")),
                Optional.of(values.getOrDefault("dist", "")).filter(d -> !d.isBlank() && !d.startsWith("${"))
                        .map(Path::of),
                lanes(given(values, "lanes", Runtime.getRuntime().availableProcessors() >= 2 ? "2" : "1")),
                Optional.of(given(values, "lane1", "")).filter(p -> !p.isBlank()),
                guestSrc.isBlank() || guestSrc.startsWith("${") ? defaultQubesGuestSrc(target) : Path.of(guestSrc));
    }

    /**
     * Where CI keeps Qubes' guest sources: the clone is at some path P, the sources at P/../shared/qubes-guest-src;
     * P is the parent of this module's directory, whose {@code target} the harness is given.
     */
    static Path defaultQubesGuestSrc(Path target) {
        Path dir = target.toAbsolutePath().normalize();
        for (int up = 0; up < 3; up++) { // target -> the module -> the project root P -> P/..
            dir = dir.getParent() == null ? dir : dir.getParent();
        }
        return dir.resolve("shared").resolve("qubes-guest-src");
    }

    private static int lanes(String value) {
        if (!value.matches("[12]")) {
            throw new IllegalArgumentException("compart.xenhost.lanes is 1 or 2, not '" + value + "'");
        }
        return Integer.parseInt(value);
    }

    /** A value the pom passes, or the default when it is blank or an unset Maven property ({@code ${...}}). */
    private static String given(Map<String, String> values, String key, String otherwise) {
        String value = values.getOrDefault(key, "");
        return value.isBlank() || value.startsWith("${") ? otherwise : value;
    }

    private static String required(Map<String, String> values, String key) {
        String value = values.get(key);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("missing argument " + key + "=...");
        }
        return value;
    }

    /** Where the harness keeps its files of this run. */
    public Path work() {
        return target.resolve("xenhost");
    }

    /** The lanes of this run ({@link TestLane#plan}). */
    public List<TestLane> testLanes() {
        return TestLane.plan(includePattern, lanes, firstLane);
    }

    /** Lane 1's 9p share: jars, test classes, guest, run.sh; dom0 writes {@code out/} into it. */
    public Path share() {
        return work().resolve("share");
    }

    /** Jars copied by the dependency plugin (the test class path). */
    public Path lib() {
        return work().resolve("lib");
    }

    public Path testClasses() {
        return target.resolve("test-classes");
    }

    public Path failsafeReports() {
        return target.resolve("failsafe-reports");
    }
}
