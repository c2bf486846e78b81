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
 * @param qubesGuestSrc  the pinned upstream tarballs of Qubes' guest software the Debian guest template is built
 *                       from: argument {@code qubesGuestSrc}, else {@code ../shared/qubes-guest-src} beside the
 *                       project root (the directory above {@code target}'s module)
 */
public record RunSettings(Path target, Path jdk, Path cache, String mirror, Duration timeout,
                          String includePattern, String tagExpression, Optional<String> skipReason, boolean ci,
                          Optional<Path> dist, Path qubesGuestSrc) {

    /** The real-Xen tests: {@code *IT} in this module, {@code *XenTest} in other modules' test jars. */
    public static final String DEFAULT_INCLUDE = "^.+(IT|XenTest)$";

    private static final List<String> SKIP_FLAGS = List.of("-DskipTests", "-DskipITs", "-Dmaven.test.skip");

    /**
     * @param args     {@code key=value}: target, jdk, cache (blank = default), mirror, timeout.minutes,
     *                 include, tags, skip (three booleans: skipTests,skipITs,maven.test.skip), dist,
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
                guestSrc.isBlank() || guestSrc.startsWith("${") ? defaultQubesGuestSrc(target) : Path.of(guestSrc));
    }

    /**
     * Where CI keeps Qubes' guest sources: the clone is at some path P, the sources at P/../shared/qubes-guest-src;
     * P is the parent of this module's directory, whose {@code target} the harness is given.
     */
    static Path defaultQubesGuestSrc(Path target) {
        Path projectRoot = target.toAbsolutePath().normalize().getParent().getParent();
        return projectRoot.resolveSibling("shared").resolve("qubes-guest-src");
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

    /** The 9p share: jars, test classes, guest, run.sh; dom0 writes {@code out/} into it. */
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
