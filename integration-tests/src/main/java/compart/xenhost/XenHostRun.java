package compart.xenhost;

import compart.errors.CompartException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The {@code integration-test} step of this module: image, share, one boot, reports.
 *
 * <ol>
 *   <li>skip (with the reason on the output) for {@code -DskipTests}/{@code -DskipITs}, or when QEMU is missing,
 *       or when the image must be built and root/debootstrap are missing;</li>
 *   <li>obtain the image ({@link ImageBuilder}, cached);</li>
 *   <li>stage the share: jars, test classes, guest kernel + initramfs, {@link PayloadScript run.sh};</li>
 *   <li>boot ({@link QemuBoot}) one Xen host per {@link TestLane} (two at once on a two-core machine, each
 *       with its share of the classes and its own share directory and console log); dom0 runs the lane's
 *       classes with the JUnit console launcher;</li>
 *   <li>{@link TestReports collect} the reports into {@code failsafe-reports}; {@code failsafe:verify} then
 *       fails the build if a test failed.</li>
 * </ol>
 * Exit code 0 when the run produced reports (passed or not: the verify phase judges them), 1 when the host
 * could not be built or booted, or the run produced nothing to judge; the message says what to look at.
 */
public final class XenHostRun {
    /** The least time left for a second boot after a stall (the longest lane takes about 20 min). */
    static final Duration SECOND_BOOT_MIN = Duration.ofMinutes(25);

    private final RunSettings settings;
    private final long start = System.nanoTime();
    private String guestSkipReason = "";

    private XenHostRun(RunSettings settings) {
        this.settings = settings;
    }

    public static void main(String[] args) {
        RunSettings settings;
        try {
            settings = RunSettings.parse(Arrays.asList(args), System.getenv(), System.getProperty("user.home"));
        } catch (IllegalArgumentException e) {
            System.err.println("[xenhost] " + e.getMessage());
            System.exit(2);
            return;
        }
        int code;
        try {
            code = new XenHostRun(settings).run();
        } catch (CompartException | IOException | UncheckedIOException e) {
            System.out.println("[xenhost] FAILED: " + e.getMessage());
            code = 1;
        } catch (InterruptedException e) {
            code = 1;
        }
        System.exit(code);
    }

    private int run() throws IOException, InterruptedException {
        if (settings.skipReason().isPresent()) {
            say("Xen integration tests skipped (" + settings.skipReason().get() + ")");
            return 0;
        }
        deleteStaleReports();
        var spec = ImageSpec.bookworm(settings.mirror(), settings.jdk());
        Prerequisites boot = Prerequisites.check(Prerequisites.BOOT_TOOLS);
        boolean cached = new XenHostImage(settings.cache().resolve("image-" + spec.imageKey()), spec.imageKey())
                .isComplete();
        Prerequisites build = cached ? new Prerequisites(List.of())
                : Prerequisites.check(Prerequisites.IMAGE_BUILD_TOOLS);
        // Booting a cached image does not need root; QEMU is needed either way.
        var missing = new ArrayList<String>(boot.problems().stream()
                .filter(p -> !p.startsWith("not running as root")).toList());
        missing.addAll(build.problems());
        if (!missing.isEmpty()) {
            String what = String.join("; ", missing) + ". To run them (as root): " + Prerequisites.INSTALL_HINT;
            if (settings.ci()) {
                say("FAILED: CI must run the Xen integration tests, but: " + what);
                return 1;
            }
            say("*** Xen integration tests SKIPPED: " + what);
            say("*** No test ran inside Xen: this build proves nothing about real Xen.");
            return 0;
        }

        long t = System.nanoTime();
        var builder = new ImageBuilder(spec, settings.cache(), this::say);
        XenHostImage image = builder.obtain();
        say("image: " + image.dir() + " (" + seconds(t) + " s)");
        Optional<GuestTemplate> guest = obtainGuestTemplate(builder);

        List<TestLane> lanes = settings.testLanes();
        for (TestLane lane : lanes) {
            stageShare(image, lane);
            stageGuestTemplate(guest, lane.share(settings.work()));
        }
        say("booting " + lanes.size() + " Xen host(s) under QEMU (TCG, 1 vCPU each), deadline "
                + settings.timeout().toMinutes() + " min; consoles: " + lanes.stream()
                .map(lane -> lane.serialLog(settings.work()).toString()).toList());
        Map<TestLane, QemuBoot.Outcome> outcomes = boot(image, guest, lanes);
        var reportDirs = new LinkedHashMap<Path, Integer>();
        boolean allRan = true;
        for (var entry : outcomes.entrySet()) {
            TestLane lane = entry.getKey();
            QemuBoot.Outcome outcome = entry.getValue();
            String who = lanes.size() == 1 ? "" : "lane " + lane.number() + ": ";
            say(who + "QEMU ended after " + outcome.elapsed().toSeconds() + " s (dom0 ready after "
                    + (outcome.dom0Ready() == null ? "-" : outcome.dom0Ready().toSeconds() + " s") + ", QEMU exit "
                    + outcome.qemuExit() + (outcome.timedOut() ? ", TIMED OUT" : "")
                    + (outcome.stalled() ? ", STALLED" : "") + ")");
            if (outcome.result().isEmpty() || outcome.result().getAsInt() >= 90) {
                say(who + "FAILED: the Xen host did not run the tests (" + (outcome.timedOut() ? "timeout"
                        : outcome.stalled() ? "it stalled: " + outcome.stall().get().lines().findFirst().orElse("")
                        : outcome.result().isEmpty() ? "no RESULT line from dom0" : "dom0 set-up failed with rc="
                        + outcome.result().getAsInt() + ", see dom0-init.sh") + "). Last console lines (without "
                        + "HVM guests' debug port; all in " + lane.serialLog(settings.work()) + "):");
                tail(lane.serialLog(settings.work()), 40).forEach(line -> System.out.println("  | " + line));
                allRan = false;
            } else {
                reportDirs.put(lane.share(settings.work()).resolve(PayloadScript.REPORTS), outcome.result().getAsInt());
            }
        }
        if (!allRan) {
            return 1;
        }
        TestReports.Collected reports = TestReports.collect(reportDirs, settings.failsafeReports());
        printReports(reports);
        say("whole run: " + seconds(start) + " s");
        return 0;
    }

    /**
     * The Debian guest template with Qubes' guest software, when its sources are there (and it is cached, or can be
     * built); otherwise empty, and the reason is said here and left for the tests in the share.
     */
    private Optional<GuestTemplate> obtainGuestTemplate(ImageBuilder builder) throws IOException {
        var guest = GuestTemplateSpec.bookworm(settings.mirror(), settings.qubesGuestSrc());
        if (!guest.sourcesPresent()) {
            guestSkipReason = "no Qubes guest sources (SOURCES.tsv and the tarballs) at " + settings.qubesGuestSrc()
                    + " (-Dcompart.xenhost.qubesGuestSrc=DIR)";
            say("*** Debian guest template SKIPPED: " + guestSkipReason + "; its tests will skip");
            return Optional.empty();
        }
        long t = System.nanoTime();
        GuestTemplate template = builder.obtainGuestTemplate(guest);
        say("guest template: " + template.dir() + " (" + seconds(t) + " s)");
        return Optional.of(template);
    }

    /**
     * Links (or copies) the guest template's files into the share's {@code guest/debian/}, or writes the reason
     * there is none into {@code guest/debian/SKIPPED}.
     */
    private void stageGuestTemplate(Optional<GuestTemplate> guest, Path share) throws IOException {
        Path dir = Files.createDirectories(share.resolve(PayloadScript.GUEST_DIR).resolve("debian"));
        if (guest.isEmpty()) {
            Files.writeString(dir.resolve("SKIPPED"), guestSkipReason + "\n");
            return;
        }
        for (String name : GuestTemplate.FILES) {
            Path from = guest.get().dir().resolve(name);
            try {
                Files.createLink(dir.resolve(name), from);
            } catch (IOException | UnsupportedOperationException e) {
                Files.copy(from, dir.resolve(name)); // another filesystem: the root image is copied, not sparse
            }
        }
        say("staged the Debian guest template " + guest.get().key() + " in " + dir);
    }

    /** Boots one Xen host per lane, all at once, each echoing its console lines with the lane's prefix. */
    private Map<TestLane, QemuBoot.Outcome> boot(XenHostImage image, Optional<GuestTemplate> guest,
                                                 List<TestLane> lanes) throws IOException, InterruptedException {
        var outcomes = new LinkedHashMap<TestLane, QemuBoot.Outcome>();
        try (var pool = Executors.newFixedThreadPool(lanes.size())) {
            var running = new LinkedHashMap<TestLane, Future<QemuBoot.Outcome>>();
            for (TestLane lane : lanes) {
                var qemu = QemuCommand.forTests(image, lane.share(settings.work()));
                String suffix = lane.number() == 1 ? "" : "-" + lane.number();
                Files.writeString(settings.work().resolve("qemu-command" + suffix + ".txt"),
                        String.join(" ", qemu.argv()) + "\n");
                String prefix = lane.prefix(lanes.size());
                running.put(lane, pool.submit(() -> bootLane(image, guest, lane, qemu,
                        line -> System.out.println(prefix + line))));
            }
            for (var entry : running.entrySet()) {
                try {
                    outcomes.put(entry.getKey(), entry.getValue().get());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    throw new IOException("lane " + entry.getKey().number() + ": " + e.getCause(), e.getCause());
                }
            }
        }
        return outcomes;
    }

    /**
     * One lane's boot, and a second one if the first stalled (see {@link QemuBoot}) with {@link #SECOND_BOOT_MIN} or
     * more of the deadline left. A stall is the emulated machine stopping (seen under QEMU's emulated SVM, where
     * no test's deadline fires any more), not a test failing: a failed test never gets a second boot. The second
     * boot reruns the whole lane on a freshly staged share; the first boot's console is kept as
     * {@code serial[-N]-stalled.log}, and the stall stays in the build output.
     */
    private QemuBoot.Outcome bootLane(XenHostImage image, Optional<GuestTemplate> guest, TestLane lane,
                                      QemuCommand qemu, Consumer<String> echo)
            throws IOException, InterruptedException {
        Path serial = lane.serialLog(settings.work());
        QemuBoot.Outcome first = QemuBoot.run(qemu.argv(), serial, settings.timeout(), QemuBoot.Watch.XEN_HOST, echo);
        Duration left = settings.timeout().minus(first.elapsed());
        if (!first.stalled() || left.compareTo(SECOND_BOOT_MIN) < 0) {
            return first;
        }
        Path kept = serial.resolveSibling(serial.getFileName().toString().replace(".log", "-stalled.log"));
        Files.move(serial, kept, StandardCopyOption.REPLACE_EXISTING);
        echo.accept("[xenhost] the Xen host STALLED after " + first.elapsed().toSeconds() + " s (console kept in "
                + kept + "); booting it once more for the whole lane, " + left.toMinutes() + " min left");
        stageShare(image, lane);
        stageGuestTemplate(guest, lane.share(settings.work()));
        return QemuBoot.run(qemu.argv(), serial, left, QemuBoot.Watch.XEN_HOST, echo);
    }

    /** Reports of an earlier run must not be judged by failsafe:verify if this run produces none. */
    private void deleteStaleReports() throws IOException {
        if (Files.isDirectory(settings.failsafeReports())) {
            try (Stream<Path> old = Files.list(settings.failsafeReports())) {
                for (Path report : old.filter(p -> p.getFileName().toString().matches("(TEST-.*|failsafe-summary)\\.xml"))
                        .toList()) {
                    Files.delete(report);
                }
            }
        }
    }

    private void stageShare(XenHostImage image, TestLane lane) throws IOException {
        Path share = lane.share(settings.work());
        if (Files.exists(share)) {
            try (Stream<Path> old = Files.walk(share)) {
                for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(share.resolve("lib"));
        Files.createDirectories(share.resolve(PayloadScript.GUEST_DIR));
        var jars = new ArrayList<String>();
        try (Stream<Path> lib = Files.list(settings.lib())) {
            for (Path jar : lib.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
                Files.copy(jar, share.resolve("lib").resolve(jar.getFileName()));
                jars.add("lib/" + jar.getFileName());
            }
        } catch (NoSuchFileException e) {
            throw new IOException("no " + settings.lib() + ": the dependency plugin's copy-dependencies "
                    + "(pre-integration-test) did not run", e);
        }
        copyTree(settings.testClasses(), share.resolve("test-classes"));
        Files.copy(image.guestKernel(), share.resolve(PayloadScript.GUEST_DIR).resolve("vmlinuz"));
        Files.copy(image.guestInitrd(), share.resolve(PayloadScript.GUEST_DIR).resolve("initrd.gz"));
        GuestAgent.stage(share.resolve(PayloadScript.GUEST_DIR).resolve(GuestAgent.DIR));
        stageDeb(share.resolve(PayloadScript.DIST));
        var payload = new PayloadScript("/mnt/host", jars, "test-classes", lane.includePattern(),
                settings.tagExpression(), "15m");
        Files.writeString(share.resolve("run.sh"), payload.text());
        say("staged " + jars.size() + " jars, the test classes and the guest in " + share + " (classes "
                + lane.includePattern() + ")");
    }

    /**
     * Compart's .deb for the scenario (ScenarioIT installs it in dom0), when packaging built one ({@code -Pdist},
     * which runs before this module). Without it the scenario skips, saying so; CI must have it.
     */
    private void stageDeb(Path dir) throws IOException {
        List<Path> debs = List.of();
        if (settings.dist().isPresent() && Files.isDirectory(settings.dist().get())) {
            try (Stream<Path> files = Files.list(settings.dist().get())) {
                debs = files.filter(p -> p.getFileName().toString().matches("compart_.*_amd64\\.deb")).sorted()
                        .toList();
            }
        }
        if (debs.isEmpty()) {
            String why = "no compart_*_amd64.deb in " + settings.dist().map(Path::toString).orElse("(dist= not given)")
                    + ": the scenario (ScenarioIT) needs the package; build with -Pdist (./mvnw -Pdist verify)";
            if (settings.ci()) {
                throw new IOException(why);
            }
            say("*** " + why + "; it will be skipped");
            return;
        }
        Files.createDirectories(dir);
        Path deb = debs.getLast();
        Files.copy(deb, dir.resolve(deb.getFileName()));
        say("staged " + deb.getFileName() + " for the scenario");
    }

    private static void copyTree(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)) {
            throw new IOException("no test classes in " + from + " (were the tests compiled?)");
        }
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private void printReports(TestReports.Collected reports) {
        say("Results of the tests inside dom0:");
        for (Map.Entry<String, TestReports.Counts> entry : reports.perClass().entrySet()) {
            System.out.println("[xenhost] " + entry.getValue() + " -- in " + entry.getKey()
                    + (entry.getValue().green() ? "" : " <<< FAILURE!"));
        }
        for (TestReports.Failure failure : reports.failures()) {
            System.out.println("[xenhost]   " + failure.kind().toUpperCase(Locale.ROOT) + " "
                    + failure.className() + "." + failure.testName() + ": " + failure.message());
        }
        say(reports.total() + (reports.total().green() ? "" : "  (failsafe:verify will fail the build)"));
    }

    private static List<String> tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.ISO_8859_1).stream()
                    .filter(line -> !line.isBlank() && !line.matches("^\\(d\\d+\\).*")).toList();
            return all.subList(Math.max(0, all.size() - lines), all.size());
        } catch (IOException e) {
            return List.of("(no console log: " + e.getMessage() + ")");
        }
    }

    private long seconds(long since) {
        return Duration.ofNanos(System.nanoTime() - since).toSeconds();
    }

    private void say(String message) {
        System.out.println("[xenhost +" + seconds(start) + "s] " + message);
    }
}
