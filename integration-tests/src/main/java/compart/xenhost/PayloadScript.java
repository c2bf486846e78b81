package compart.xenhost;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The {@code run.sh} that dom0's init runs from the share: the JUnit Platform console launcher on the test
 * classes, with the staged jars as class path, writing its XML reports back into the share.
 *
 * <p>What runs: every class matching {@code includePattern} (by default {@code *IT} and {@code *XenTest}), and
 * the tag expression if one is given, in this module's test classes and in any test jar ({@code *-tests.jar}) on
 * the class path, so a module that publishes its real-Xen tests as a test-jar gets them run here too. The tests find the guest, the share and scratch disks
 * through system properties, see {@link #systemProperties()}.
 *
 * @param mount          where dom0 mounts the share ({@code /mnt/host})
 * @param jars           the class path jars, relative to the share ({@code lib/x.jar})
 * @param testClasses    the test classes directory, relative to the share
 * @param includePattern regular expression on class names selecting the tests to run
 * @param tagExpression  JUnit tag expression the tests must also match, e.g. {@code xen}; blank = no tag filter
 * @param testTimeout    JUnit default timeout of one test, e.g. {@code 15m}
 */
public record PayloadScript(String mount, List<String> jars, String testClasses, String includePattern,
                            String tagExpression, String testTimeout) {

    /** Where the console launcher writes its XML reports, relative to the share. */
    public static final String REPORTS = "out/junit";
    /** Compart's .deb for the scenario, relative to the share (staged only when packaging built it). */
    public static final String DIST = "dist";
    /** The test guest's kernel and initramfs, relative to the share. */
    public static final String GUEST_DIR = "guest";
    /** Scratch disk images made by run.sh for tests that attach a PV disk (raw, 64 MiB and 16 MiB). */
    public static final String DISK = "/var/lib/compart-it/disk.img";
    public static final String HOTPLUG_DISK = "/var/lib/compart-it/hotplug.img";
    /** The word of dom0's pulse line, printed every {@link #PULSE_SECONDS} while the tests run. */
    public static final String PULSE = "alive:";
    public static final int PULSE_SECONDS = 120;

    public PayloadScript {
        Objects.requireNonNull(mount, "mount");
        jars = List.copyOf(jars);
        Objects.requireNonNull(testClasses, "testClasses");
        Pattern.compile(includePattern); // fail early on a bad pattern
        Objects.requireNonNull(tagExpression, "tagExpression");
        if (!testTimeout.matches("\\d+[smh]?")) {
            throw new IllegalArgumentException("JUnit timeout like 15m expected: " + testTimeout);
        }
    }

    /** System properties the in-dom0 tests read (names also in the tests' {@code XenHostPaths}). */
    public Map<String, String> systemProperties() {
        var properties = new TreeMap<String, String>();
        properties.put("compart.xenhost.share", mount);
        properties.put("compart.xenhost.out", mount + "/out");
        properties.put("compart.xenhost.guest.kernel", mount + "/" + GUEST_DIR + "/vmlinuz");
        properties.put("compart.xenhost.guest.initrd", mount + "/" + GUEST_DIR + "/initrd.gz");
        // the same for xl-bindings' xen-tagged tests, in their names (see their GuestRun, PvhGuestXenTest)
        properties.put("compart.test.kernel", mount + "/" + GUEST_DIR + "/vmlinuz");
        properties.put("compart.test.initrd", mount + "/" + GUEST_DIR + "/initrd.gz");
        properties.put("compart.test.consoleMarker", "COMPART-GUEST: up");
        properties.put("compart.test.disk", DISK);
        properties.put("compart.test.hotplugDisk", HOTPLUG_DISK);
        properties.put("compart.test.timingRounds", "1");
        return properties;
    }

    /** The java command line (run with cwd = the share). */
    public List<String> javaCommand() {
        var argv = new ArrayList<String>(List.of("/opt/jre/bin/java",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=/tmp"));
        systemProperties().forEach((name, value) -> argv.add("-D" + name + "=" + value));
        var classPath = new ArrayList<String>();
        classPath.add(mount + "/" + testClasses);
        jars.forEach(jar -> classPath.add(mount + "/" + jar));
        argv.addAll(List.of("-cp", String.join(":", classPath),
                "org.junit.platform.console.ConsoleLauncher", "execute",
                "--disable-banner", "--disable-ansi-colors", "--details=tree", "--details-theme=ascii",
                "--scan-class-path=" + mount + "/" + testClasses));
        jars.stream().filter(jar -> jar.endsWith("-tests.jar")).forEach(jar ->
                argv.add("--scan-class-path=" + mount + "/" + jar));
        if (!tagExpression.isBlank()) {
            argv.add("--include-tag=" + tagExpression);
        }
        argv.addAll(List.of(
                "--include-classname=" + includePattern,
                "--config=junit.jupiter.execution.timeout.default=" + testTimeout,
                "--reports-dir=" + mount + "/" + REPORTS,
                "--fail-if-no-tests"));
        return List.copyOf(argv);
    }

    /** The script text. */
    public String text() {
        var script = new StringBuilder("""
                #!/bin/sh
                # Written by compart.xenhost.PayloadScript for each run: the integration tests, inside dom0, as root.
                cd %s || exit 97
                mkdir -p %s /var/lib/compart-it
                truncate -s 64M %s
                truncate -s 16M %s
                echo "COMPART-XENHOST: tests start (uptime $(cut -d' ' -f1 /proc/uptime)s)"
                # dom0's pulse: the harness on the host calls a Xen host that prints no line for minutes stalled
                # (QemuBoot). sleep gets no stdout, so killing the loop closes the console pipe at once.
                ( while sleep %d </dev/null >/dev/null 2>&1; do
                    echo "COMPART-XENHOST: %s uptime $(cut -d' ' -f1 /proc/uptime)s, load $(cut -d' ' -f1-3 /proc/loadavg), $(grep MemAvailable /proc/meminfo | tr -s ' ')"
                  done ) &
                pulse=$!
                """.formatted(quote(mount), quote(mount + "/" + REPORTS), DISK, HOTPLUG_DISK, PULSE_SECONDS, PULSE));
        List<String> java = javaCommand();
        script.append(quote(java.getFirst()));
        for (String arg : java.subList(1, java.size())) {
            script.append(" \\\n    ").append(quote(arg));
        }
        return script.append("\nrc=$?\nkill $pulse\nexit $rc\n").toString();
    }

    /** Single-quotes {@code s} for sh unless it is made only of safe characters. */
    static String quote(String s) {
        if (!s.isEmpty() && s.matches("[A-Za-z0-9_./:=,+@%-]+")) {
            return s;
        }
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
