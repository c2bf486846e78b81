package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The whole story on real Xen, as a newcomer would live it in dom0: Compart's .deb is installed with
 * {@code dpkg -i}, its services start under systemd, and everything after that goes through the installed
 * {@code qvm-*} commands, {@code qubes-prefs}, {@code compart-dedup} and {@code /etc/qubes/policy.d}.
 *
 * <p>Each test method is one step, in order; a failed step skips the rest. Every step prints its time on the
 * console ({@code COMPART-XENHOST: scenario ...}, shown live by the build) and into {@code out/scenario.txt}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScenarioIT {
    static final Path POOL_DIR = Path.of("/var/lib/compart");
    static final Path POOL_IMAGE = Path.of("/var/lib/compart-it/scenario-xfs.img");
    static final Path KERNEL = Path.of("/var/lib/qubes/vm-kernels/compart-guest");
    static final Path POLICY = Path.of("/etc/qubes/policy.d/30-scenario.policy");
    static final Duration QVM = Duration.ofMinutes(10);
    static final List<String> SMALL = List.of("--prop", "memory=256", "--prop", "maxmem=256", "--prop", "vcpus=1",
            "--prop", "qrexec_timeout=300", "--prop", "shutdown_timeout=120");

    private final List<String> report = new ArrayList<>();
    private final long scenarioStart = System.nanoTime();
    private boolean failed;
    private Path deb;

    @BeforeAll
    void findThePackage() throws IOException {
        Path dist = Path.of(System.getProperty("compart.xenhost.share"), "dist");
        if (Files.isDirectory(dist)) {
            try (Stream<Path> files = Files.list(dist)) {
                deb = files.filter(p -> p.toString().endsWith(".deb")).findFirst().orElse(null);
            }
        }
    }

    @BeforeEach
    void earlierStepsPassed() {
        Assumptions.assumeTrue(deb != null, "no Compart .deb in the share: the scenario needs packaging's -Pdist "
                + "build (./mvnw -Pdist verify)");
        Assumptions.assumeFalse(failed, "an earlier scenario step failed");
    }

    /** Runs one step: prints its start and its time, and marks the scenario failed if it throws. */
    void step(String title, ThrowingRunnable body) throws Exception {
        say("step: " + title);
        long t0 = System.nanoTime();
        var cpuBefore = ThreadCpu.ofCompartd();
        try {
            body.run();
        } catch (Throwable e) {
            failed = true;
            say(String.format("FAILED after %.1f s: %s", (System.nanoTime() - t0) / 1e9, title));
            throw e;
        }
        String line = String.format("%6.1f s  %s", (System.nanoTime() - t0) / 1e9, title);
        var cpuAfter = ThreadCpu.ofCompartd();
        if (cpuAfter.isPresent()) {
            // a compartd that (re)started in the step counts from its start
            line += "\n          compartd: " + cpuAfter.get().summarySince(
                    cpuBefore.orElse(new ThreadCpu(0, 0, java.util.Map.of())), 4);
        }
        report.add(line);
        say("done " + line.strip());
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    static void say(String text) {
        System.out.println("COMPART-XENHOST: scenario " + text);
    }

    /**
     * A command line as the scenario runs it. The package's client commands ({@code qvm-*}, {@code qubes-*}) get
     * {@code COMPART_JAVA_OPTS=-Xint}, the launcher's documented knob: under QEMU's TCG, compiling costs more than it
     * saves in a short-lived client (dom0, {@code qvm-ls}: 2.36-2.53 s with the JIT, 1.56-1.63 s without; on real
     * hardware the two are within 10 ms). compartd and compart-dedup keep their JIT.
     */
    static List<String> command(String... argv) {
        if (argv[0].startsWith("qvm-") || argv[0].startsWith("qubes-")) {
            var line = new ArrayList<>(List.of("env", "COMPART_JAVA_OPTS=-Xint"));
            line.addAll(List.of(argv));
            return line;
        }
        return List.of(argv);
    }

    /** Runs a command of the installed package (or any program) and returns its output; requires exit 0. */
    static String sh(String... argv) {
        var result = Dom0Host.run(command(argv), QVM);
        assertThat(result.exitCode()).as("exit code of %s; output:%n%s", String.join(" ", argv), result.output())
                .isZero();
        return result.output();
    }

    /** A timed command: prints how long it took. */
    static String timed(String... argv) {
        long t0 = System.nanoTime();
        String out = sh(argv);
        say(String.format("  %s: %.2f s", String.join(" ", argv), (System.nanoTime() - t0) / 1e9));
        return out;
    }

    /** {@code qvm-run --pass-io QUBE COMMAND}: the command's output; requires exit 0. */
    static String run(String qube, String command) {
        return sh("qvm-run", "--pass-io", "--no-autostart", qube, command);
    }

    static String pref(String qube, String property) {
        return sh("qvm-prefs", qube, property).strip();
    }

    static void awaitTrue(String what, Duration timeout, BooleanSupplier condition)
            throws InterruptedException {
        var deadline = Instant.now().plus(timeout);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError(what + " did not happen within " + timeout);
            }
            Thread.sleep(500);
        }
    }

    /** Waits (up to two minutes) until qvm-ls lists no disposable ({@code dispNNN}) any more. */
    static void awaitDisposablesGone() throws InterruptedException {
        awaitTrue("the disposable leaving qvm-ls", Duration.ofMinutes(2),
                () -> !sh("qvm-ls", "--raw-list").matches("(?s).*disp[0-9]+.*"));
    }

    @Test
    @Order(1)
    void installTheDeb_servicesStartUnderSystemd_andQvmLsAnswers() throws Exception {
        step("dpkg -i " + deb.getFileName() + "; compartd and compart-policy start", () -> {
            assertThat(Files.readString(Path.of("/proc/1/comm")).strip()).as("PID 1 of dom0").isEqualTo("systemd");
            // the default file-reflink pool on XFS with reflinks, as a Qubes dom0 would have /var/lib/qubes
            Files.createDirectories(POOL_IMAGE.getParent());
            sh("truncate", "-s", "6G", POOL_IMAGE.toString());
            sh("mkfs.xfs", "-q", "-m", "reflink=1", POOL_IMAGE.toString());
            Files.createDirectories(POOL_DIR);
            sh("mount", "-o", "loop", POOL_IMAGE.toString(), POOL_DIR.toString());
            say("  " + timed("dpkg", "-i", deb.toString()).strip().replace("\n", "\n    "));
            awaitTrue("compartd's socket /var/run/qubesd.sock", Duration.ofMinutes(3),
                    () -> Files.exists(Path.of("/var/run/qubesd.sock")));
            assertThat(sh("systemctl", "is-active", "compartd.service", "compart-policy.service"))
                    .isEqualTo("active\nactive\n");
            assertThat(sh("systemctl", "is-enabled", "compartd.service")).startsWith("enabled");
            assertThat(timed("qvm-ls")).contains("dom0").contains("AdminVM").contains("Running");
        });
    }

    @Test
    @Order(2)
    void templateVm_fromAGuestImage() throws Exception {
        step("TemplateVM 'tpl' from a guest image (kernel dir + ext4 root imported with qvm-volume import)", () -> {
            QubeGuestImages.kernelDir(KERNEL);
            sh("qubes-prefs", "default_kernel", "compart-guest");
            Path image = Path.of("/var/lib/compart-it/template-root.img");
            QubeGuestImages.templateRoot(image, 64, List.of("etc/compart-template", "template tpl\n"));
            // the template's kernelopts are its AppVMs' and their DispVMs' too, as in Qubes
            var create = new ArrayList<>(List.of("qvm-create", "--class", "TemplateVM", "--label", "black",
                    "--prop", "kernelopts=rdinit=" + QubeGuestImages.INIT + " quiet"));
            create.addAll(SMALL);
            create.add("tpl");
            sh(create.toArray(String[]::new));
            sh("qvm-features", "tpl", "qrexec", "1");
            timed("qvm-volume", "import", "tpl:root", image.toString());
            assertThat(sh("qvm-volume", "info", "tpl:root")).contains("varlibqubes").contains("67108864");
        });
    }

    @Test
    @Order(3)
    void sysNet_andWork_onTheTemplate() throws Exception {
        step("AppVMs 'sys-net' (provides_network) and 'work' (netvm=sys-net)", () -> {
            create("sys-net", "red", "--prop", "provides_network=True", "--prop", "netvm=");
            create("work", "blue", "--prop", "netvm=sys-net");
            assertThat(pref("work", "netvm")).isEqualTo("sys-net");
            assertThat(pref("work", "ip")).startsWith("10.137.");
        });
    }

    static void create(String name, String label, String... props) {
        var argv = new ArrayList<>(List.of("qvm-create", "--class", "AppVM", "--template", "tpl", "--label", label));
        argv.addAll(SMALL);
        argv.addAll(List.of(props));
        argv.add(name);
        sh(argv.toArray(String[]::new));
    }

    @Test
    @Order(4)
    void work_startsAsPvh_onTheTemplateRootSnapshot_withPrivateVolatileAndANicWithItsQubesIp() throws Exception {
        step("qvm-start sys-net; qvm-start work: PVH, root snapshot, private + volatile, NIC with its Qubes IP", () -> {
            timed("qvm-start", "sys-net");
            String gateway = pref("sys-net", "gateway");
            assertThat(gateway).startsWith("10.137.");
            // what qubesdb's /qubes-netvm-gateway tells a Qubes net qube
            run("sys-net", "echo " + gateway + " > /run/qubes-netvm-gateway");
            timed("qvm-start", "work");
            String ip = pref("work", "ip");
            // one call for the guest's side (each qvm-run costs seconds under TCG)
            List<String> seen = run("work", "cat /sys/hypervisor/guest_type; echo $(ls /sys/block);"
                    + " cat /mnt/root/etc/compart-template; ip -4 -o addr show dev eth0;"
                    + " xenstore-read device/vif/0/backend").lines().toList();
            assertThat(seen).as("guest type, disks, root, eth0, vif backend").hasSize(5);
            assertThat(seen.get(0)).isEqualTo("PVH");
            assertThat(seen.get(1)).contains("xvda").contains("xvdb").contains("xvdc");
            assertThat(seen.get(2)).isEqualTo("template tpl");
            assertThat(seen.get(3)).contains("inet " + ip + "/32");
            String sysNetId = sh("xl", "domid", "sys-net").strip();
            assertThat(seen.get(4)).startsWith("/local/domain/" + sysNetId + "/backend/vif/");
            say("  work: " + ip + " behind sys-net (domid " + sysNetId + "), gateway " + gateway);
            String ping = run("sys-net", "ping -c 1 -W 10 " + ip);
            assertThat(ping).contains("1 packets received");
            assertThat(sh("qvm-ls", "--raw-data", "--fields", "NAME,STATE,CLASS")).contains("work|Running|AppVM");
        });
    }

    @Test
    @Order(5)
    void aFileOnPrivateSurvivesARestart_aFileOnRootDoesNot() throws Exception {
        step("private keeps what work wrote, root resets at the next start", () -> {
            run("work", "echo kept > /rw/private-file && echo gone > /mnt/root/root-file && sync");
            timed("qvm-shutdown", "--wait", "work");
            assertThat(Dom0Host.domainExists("work")).isFalse();
            timed("qvm-start", "work");
            assertThat(run("work", "cat /rw/private-file; ls /mnt/root/root-file 2>/dev/null || echo absent"))
                    .isEqualTo("kept\nabsent\n");
            // work keeps running: Qubes clones a running qube's committed volumes, and steps 7 and 9 use it running
        });
    }

    @Test
    @Order(6)
    void qvmClone_isInstant() throws Exception {
        step("qvm-clone work work2 (reflinks: no data copied)", () -> {
            long t0 = System.nanoTime();
            sh("qvm-clone", "work", "work2");
            double seconds = (System.nanoTime() - t0) / 1e9;
            Path priv = POOL_DIR.resolve("pool/appvms/work2/private.img");
            long size = Files.size(priv);
            long c0 = System.nanoTime();
            Path copy = POOL_DIR.resolve("cp-reflink-reference.img");
            sh("cp", "--reflink=always", POOL_DIR.resolve("pool/appvms/work/private.img").toString(), copy.toString());
            double cp = (System.nanoTime() - c0) / 1e9;
            Files.delete(copy);
            say(String.format("  qvm-clone work work2: %.2f s for a %d MiB private volume (whole qvm-clone process, "
                    + "under TCG); cp --reflink=always of the same file: %.2f s", seconds, size >> 20, cp));
            assertThat(sh("filefrag", "-v", priv.toString())).as("the clone's extents").contains("shared");
            assertThat(pref("work2", "netvm")).isEqualTo("sys-net");
        });
    }

    @Test
    @Order(7)
    void dispVm_startsAndDisappearsAfterShutdown() throws Exception {
        step("DispVM 'disp1' on work: starts, and is gone after its shutdown", () -> {
            sh("qvm-prefs", "work", "template_for_dispvms", "True");
            var argv = new ArrayList<>(List.of("qvm-create", "--class", "DispVM", "--template", "work", "--label",
                    "red", "--prop", "auto_cleanup=True"));
            argv.addAll(SMALL);
            argv.add("disp1");
            sh(argv.toArray(String[]::new));
            timed("qvm-start", "disp1");
            assertThat(run("disp1", "cat /rw/private-file")).as("the DispVM's private is work's").isEqualTo("kept\n");
            assertThat(pref("disp1", "ip")).startsWith("10.138.");
            timed("qvm-shutdown", "--wait", "disp1");
            awaitTrue("disp1 leaving qvm-ls", Duration.ofMinutes(2), () -> !sh("qvm-ls").contains("disp1"));
            assertThat(Dom0Host.domainExists("disp1")).isFalse();
            assertThat(POOL_DIR.resolve("pool/appvms/disp1")).doesNotExist();

            long t0 = System.nanoTime();
            assertThat(sh("qvm-run", "--dispvm=work", "--pass-io", "echo hi from $(xenstore-read name)"))
                    .matches("hi from disp[0-9]+\n");
            say(String.format("  qvm-run --dispvm=work --pass-io 'echo hi ...': %.1f s", (System.nanoTime() - t0) / 1e9));
            awaitDisposablesGone();
        });
    }

    @Test
    @Order(8)
    void hvmStandaloneVm_starts() throws Exception {
        step("StandaloneVM 'hvm1' (virt_mode=hvm) starts as an HVM domain", () -> {
            var argv = new ArrayList<>(List.of("qvm-create", "--class", "StandaloneVM", "--template", "tpl",
                    "--label", "green", "--prop", "virt_mode=hvm", "--prop", "netvm=",
                    // an HVM qube has no kernel by default (it boots its disk); this one boots the kernel dir
                    "--prop", "kernel=compart-guest", "--prop", "kernelopts=rdinit=" + QubeGuestImages.INIT + " quiet"));
            argv.addAll(SMALL);
            argv.add("hvm1");
            sh(argv.toArray(String[]::new));
            sh("qvm-features", "hvm1", "qrexec", "1");
            timed("qvm-start", "hvm1");
            assertThat(Dom0Host.xl("list", "-l", "hvm1")).contains("\"type\": \"hvm\"");
            assertThat(run("hvm1", "cat /sys/hypervisor/guest_type /mnt/root/etc/compart-template"))
                    .isEqualTo("HVM\ntemplate tpl\n");
            timed("qvm-shutdown", "--wait", "hvm1");
        });
    }

    @Test
    @Order(9)
    void callsBetweenQubes_areAllowedAndDeniedPerPolicy_withAuditLines() throws Exception {
        step("qrexec between qubes per /etc/qubes/policy.d: work->work2 allowed, work2->work denied", () -> {
            Files.writeString(POLICY, """
                    # ScenarioIT: work may call test.Echo in work2, not the other way round
                    test.Echo * work work2 allow
                    test.Echo * work2 work deny
                    """);
            sh("qubes-policy-lint", POLICY.toString());
            assertThat(sh("qvm-ls", "--raw-data", "--fields", "NAME,STATE")).contains("work|Running");
            timed("qvm-start", "work2");
            var allowed = Dom0Host.run(command("qvm-run", "--pass-io", "work",
                    "echo ping | qrexec-client-vm work2 test.Echo"), QVM);
            assertThat(allowed.output()).contains("echo from work").contains("ping");
            assertThat(allowed.exitCode()).as("the service's exit code").isEqualTo(7);
            var denied = Dom0Host.run(command("qvm-run", "--pass-io", "work2",
                    "qrexec-client-vm work test.Echo"), QVM);
            assertThat(denied.exitCode()).as("a refused call").isEqualTo(126);
            awaitTrue("the audit lines in compartd's journal", Duration.ofMinutes(1), () -> {
                String journal = Dom0Host.run(List.of("journalctl", "-u", "compartd", "--no-pager", "-o", "cat"),
                        Duration.ofMinutes(1)).output();
                // Qubes' audit lines: an allowed call names its target, a denied one the rule that denied it
                return journal.contains("test.Echo+: work -> work2: allowed to work2")
                        && journal.contains("test.Echo+: work2 -> work: denied: denied by policy " + POLICY + ":3");
            });
            String journal = sh("journalctl", "-u", "compartd", "--no-pager", "-o", "cat");
            journal.lines().filter(l -> l.contains("audit: qrexec")).forEach(l -> say("  " + l));
            assertThat(run("work", "echo hi")).isEqualTo("hi\n");

            // @dispvm: a disposable of work's default_dispvm is created for the call, and removed after it
            sh("qvm-prefs", "work", "default_dispvm", "work");
            Files.writeString(POLICY, "test.Echo * work @dispvm allow\n", java.nio.file.StandardOpenOption.APPEND);
            var disposable = Dom0Host.run(command("qvm-run", "--pass-io", "work",
                    "echo via-dispvm | qrexec-client-vm @dispvm test.Echo"), QVM);
            say("  work -> @dispvm test.Echo: exit " + disposable.exitCode() + ": "
                    + disposable.output().strip().replace("\n", " / "));
            assertThat(disposable.output()).containsPattern("echo from work").contains("via-dispvm");
            assertThat(disposable.exitCode()).isEqualTo(7);
            awaitDisposablesGone();
        });
    }

    @Test
    @Order(10)
    void compartDedup_savesSpace_andEveryQubeStillBoots() throws Exception {
        step("compart-dedup on the pool saves space; every qube boots afterwards", () -> {
            // the same 16 MiB written by two qubes into their own private volumes: no extents shared yet
            run("work", "cp /mnt/root/blob /rw/blob && sync");
            run("work2", "cp /mnt/root/blob /rw/blob && sync");
            sh("qvm-shutdown", "--wait", "--all");
            long usedBefore = usedBytes();
            // the default 128 KiB blocks: the two copies sit at the same offsets of their (cloned) file systems.
            // (--block-size 4096 works in dom0's heap since the block tables follow the sparse volumes' data, but
            // took 107 s here under TCG against 13 s: noted on the volumes issue)
            String json = timed("compart-dedup", "--quiet", "--json", POOL_DIR.resolve("pool").toString());
            sh("sync");
            long usedAfter = usedBytes();
            say(String.format("  compart-dedup: %s; pool filesystem used %d -> %d MiB", json.strip(),
                    usedBefore >> 20, usedAfter >> 20));
            assertThat(usedBefore - usedAfter).as("bytes freed on the pool's filesystem").isGreaterThan(8L << 20);
            for (String qube : List.of("sys-net", "work", "work2", "hvm1")) {
                timed("qvm-start", qube);
                assertThat(run(qube, "echo alive; cat /mnt/root/etc/compart-template")).startsWith("alive\n");
            }
            assertThat(run("work2", "sha256sum /rw/blob | cut -c1-64"))
                    .isEqualTo(run("work", "sha256sum /mnt/root/blob | cut -c1-64"));
        });
    }

    /**
     * What compartd does while its qubes run and nobody calls it: its CPU over 30 s, and two thread dumps (SIGQUIT:
     * the JVM prints every thread's stack to its stdout, the journal) to say where the time goes if it is not ~0.
     */
    void compartdAtRest() {
        var before = ThreadCpu.ofCompartd();
        if (before.isEmpty()) {
            return;
        }
        try {
            Thread.sleep(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        ThreadCpu.of(before.get().pid()).ifPresent(after -> {
            String line = String.format("  30.0 s  compartd at rest with %s running: %s",
                    sh("xl", "list").lines().skip(2).count() + " qubes", after.summarySince(before.get(), 6));
            report.add(line);
            say(line.strip());
        });
        for (int i = 0; i < 2; i++) {
            Dom0Host.run(List.of("kill", "-QUIT", Long.toString(before.get().pid())), QVM);
            try {
                Thread.sleep(3_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    static long usedBytes() {
        String out = sh("df", "-B1", "--output=used", POOL_DIR.toString());
        return Long.parseLong(out.lines().skip(1).findFirst().orElseThrow().strip());
    }

    @Test
    @Order(11)
    void qvmLs_showsItAll() throws Exception {
        step("qvm-ls", () -> {
            String ls = timed("qvm-ls");
            ls.lines().forEach(l -> say("  " + l));
            assertThat(ls).contains("tpl").contains("TemplateVM").contains("sys-net").contains("work2")
                    .contains("hvm1").contains("StandaloneVM").doesNotContain("disp1");
            assertThat(sh("qvm-ls", "--format", "json")).contains("\"name\"");
        });
    }

    @AfterAll
    void stopEverything() throws IOException {
        if (deb == null) {
            return;
        }
        compartdAtRest();
        Dom0Host.run(List.of("qvm-shutdown", "--wait", "--all", "--timeout", "120"), QVM);
        Dom0Host.run(List.of("qvm-kill", "--all"), QVM);
        Dom0Host.run(List.of("systemctl", "stop", "compart-policy.service", "compartd.service"), QVM);
        Files.deleteIfExists(POLICY);
        String journal = Dom0Host.run(List.of("journalctl", "--no-pager", "-u", "compartd", "-u", "compart-policy"),
                Duration.ofMinutes(1)).output();
        Files.createDirectories(Dom0Host.out());
        Files.writeString(Dom0Host.out().resolve("scenario-journal.txt"), journal);
        report.add(String.format("%6.1f s  whole scenario", (System.nanoTime() - scenarioStart) / 1e9));
        Files.writeString(Dom0Host.out().resolve("scenario.txt"), String.join("\n", report) + "\n");
        say("steps:");
        report.forEach(line -> say("  " + line));
        for (String qube : List.of("sys-net", "work", "work2", "disp1", "hvm1")) {
            Path console = Path.of("/var/log/xen/console/guest-" + qube + ".log");
            if (Files.exists(console)) {
                Files.createDirectories(Dom0Host.out().resolve("guests"));
                Files.copy(console, Dom0Host.out().resolve("guests/scenario-" + qube + ".log"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
