package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.daemon.Compartd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import picocli.CommandLine;

/**
 * QubesDB served by compartd to Qubes' own guest software: compartd (from the class path) on libxl starts a net
 * qube {@code sys-net} and an AppVM {@code work} behind it, both from the Debian 12 guest template (upstream
 * qubesdb-daemon, qubes-core-agent-linux's units and setup-ip, unmodified). What happens inside the qubes is
 * read from their consoles, where the template's report unit (compart-qube-report.service: upstream
 * {@code qubesdb-read} and {@code qubesdb-multiread}, {@code ip}, {@code ping}) prints it; no script of ours in
 * the guest sets anything up. One step per method, in order; a failed step fails the ones after it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Disabled("2026-12-07, second run (single lane, heartbeat on): no hang; steps 1-2 pass (sys-net and work up on"
        + " upstream QubesDB, qubesdb-read in work answers /name /qubes-vm-type /qubes-ip /qubes-gateway; eth0"
        + " 10.137.0.3/32 and the default route set by upstream setup-ip; sys-net got connected-ips, mapped-ip and"
        + " qubes-firewall/10.137.0.3 pushed live) but step 3 fails: work's ping to its gateway 10.137.0.2 fails (sys-net's"
        + " side of vif2.0 is not set up yet: vif-route-qubes in the net qube). Off in CI until that passes; steps 5-7"
        + " have never run. Remove this line to run it.")
class QubesDbIT {
    static final Path BASE = Path.of("/var/lib/compart-it/qubesdb");
    static final Path KERNEL = Path.of("/var/lib/qubes/vm-kernels/debian-qubes");
    static final Duration BOOT = Duration.ofMinutes(12);
    static final Duration CHANGE = Duration.ofMinutes(2);

    private boolean failed;
    private AdminApiSocket admin;
    private Compartd.Running daemon;
    private String workIp;
    private String gateway;

    @BeforeAll
    void compartdWithTheDebianTemplate() throws Exception {
        Path dir = DebianTemplateFiles.require();
        Files.createDirectories(KERNEL);
        for (String name : List.of("vmlinuz", "initramfs", "modules.img")) {
            DebianTemplateFiles.copy(dir, name, KERNEL.resolve(name));
        }
        Path state = Files.createDirectories(BASE.resolve("state-" + ProcessHandle.current().pid()));
        admin = new AdminApiSocket(BASE.resolve("qubesd.sock"));
        var compartd = new Compartd();
        new CommandLine(compartd).parseArgs("--hypervisor", "libxl", "--socket", admin.socket().toString(),
                "--state-dir", state.toString());
        daemon = compartd.start();
        admin.ok("admin.property.Set", "default_kernel", "dom0", "debian-qubes");
        admin.ok("admin.vm.Create.TemplateVM", "", "dom0", "name=debian-12 label=black");
        long t0 = System.nanoTime();
        assertThat(admin.importVolume("debian-12", "root", dir.resolve("root.img"))).startsWith("0|");
        say("imported root.img into debian-12:root in %.1f s", seconds(t0));
        admin.ok("admin.vm.Create.AppVM", "debian-12", "dom0", "name=sys-net label=red");
        admin.ok("admin.vm.property.Set", "provides_network", "sys-net", "True");
        admin.ok("admin.vm.property.Set", "netvm", "sys-net", "");
        admin.ok("admin.vm.Create.AppVM", "debian-12", "dom0", "name=work label=blue");
        admin.ok("admin.vm.property.Set", "netvm", "work", "sys-net");
        for (String qube : List.of("sys-net", "work")) {
            admin.ok("admin.vm.property.Set", "memory", qube, "300");
            admin.ok("admin.vm.property.Set", "maxmem", qube, "300");
            admin.ok("admin.vm.property.Set", "vcpus", qube, "1");
            admin.ok("admin.vm.property.Set", "kernelopts", qube, "systemd.show_status=1");
        }
        workIp = admin.ok("admin.vm.property.Get", "ip", "work", "").replaceFirst("^default=\\w+ type=\\w+ ", "");
        gateway = admin.ok("admin.vm.property.Get", "gateway", "work", "")
                .replaceFirst("^default=\\w+ type=\\w+ ", "");
    }

    @BeforeEach
    void earlierStepsPassed() {
        Assumptions.assumeFalse(failed, "an earlier QubesDbIT step failed");
    }

    /** Runs one step; a step that throws makes the later ones skip (they build on it). */
    void step(String title, ScenarioIT.ThrowingRunnable body) throws Exception {
        say("step: %s", title);
        long t0 = System.nanoTime();
        try {
            body.run();
        } catch (Throwable e) {
            failed = true;
            say("FAILED after %.1f s: %s", seconds(t0), title);
            throw e;
        }
        say("done %.1f s: %s", seconds(t0), title);
    }

    @Test
    @Order(1)
    void sysNetAndWork_start_andSystemdRunsTheUpstreamQubesUnits() throws Exception {
        step("admin.vm.Start sys-net, then work: systemd runs the upstream Qubes units", () -> {
            for (String qube : List.of("sys-net", "work")) {
                long t0 = System.nanoTime();
                admin.ok("admin.vm.Start", "", qube, "");
                say("admin.vm.Start %s: %.1f s", qube, seconds(t0));
                String console = awaitConsole(qube, Pattern.compile("COMPART-QUBE: qdb-end"), BOOT);
                say("%s: systemd up and its first QubesDB dump after %.1f s", qube, seconds(t0));
                console.lines().filter(l -> l.startsWith("COMPART-QUBE") && !l.contains(" qdb "))
                        .forEach(l -> say("  %s | %s", qube, l));
                assertThat(console).contains("COMPART-QUBE: unit qubes-db active")
                        .contains("COMPART-QUBE: unit qubes-sysinit active");
            }
        });
    }

    @Test
    @Order(2)
    void upstreamQubesdbRead_inWork_readsItsNameTypeIpAndGateway() throws Exception {
        step("upstream qubesdb-read in work: /name /qubes-vm-type /qubes-ip /qubes-gateway", () ->
                assertThat(console("work")).contains("COMPART-QUBE: qubesdb-read /name = work")
                        .contains("COMPART-QUBE: qubesdb-read /qubes-vm-type = AppVM")
                        .contains("COMPART-QUBE: qubesdb-read /qubes-ip = " + workIp)
                        .contains("COMPART-QUBE: qubesdb-read /qubes-gateway = " + gateway));
    }

    @Test
    @Order(3)
    void upstreamSetupIp_configuredEth0FromQubesDb_andWorkReachesItsGateway() throws Exception {
        step("upstream setup-ip configured work's eth0 from QubesDB; work pings its gateway", () -> {
            // the net qube's side: what libxl wrote for work's NIC and what sys-net's hotplug (xl devd running
            // upstream vif-route-qubes) answered, and the vifs sys-net's report unit sees
            String sysNet = Dom0Host.run(List.of("xl", "domid", "sys-net"), Duration.ofMinutes(1)).output().strip();
            Dom0Host.run(List.of("xenstore-ls", "-f", "/local/domain/" + sysNet + "/backend/vif"),
                    Duration.ofMinutes(1)).output().lines()
                    .filter(l -> l.matches(".*/(state|script|ip|hotplug-status|hotplug-error|online) = .*"))
                    .forEach(l -> say("  sys-net backend: %s", l));
            console("sys-net").lines().filter(l -> l.startsWith("COMPART-QUBE: vifs")
                            || l.matches("COMPART-QUBE: unit (xendriverdomain|qubes-antispoof|qubes-iptables|qubes-network) .*"))
                    .forEach(l -> say("  sys-net | %s", l));
            assertThat(console("work")).contains("COMPART-QUBE: unit qubes-network-uplink@eth0 active")
                        .contains("COMPART-QUBE: eth0 " + workIp + "/32")
                        .contains("COMPART-QUBE: route default via " + gateway + " dev eth0")
                        .contains("COMPART-QUBE: ping gateway " + gateway + " ok");
        });
    }

    @Test
    @Order(4)
    void sysNet_seesItsClientUnderConnectedIps_andTheClientsFirewallEntries() throws Exception {
        step("sys-net sees work under /connected-ips, and work's /qubes-firewall/ entries", () -> {
            String console = awaitConsole("sys-net", Pattern.compile("COMPART-QUBE: qdb connected-ips = [^\\n]*"
                    + Pattern.quote(workIp)), CHANGE);
            assertThat(lastDump(console)).anyMatch(l -> l.startsWith("qubes-firewall/" + workIp + "/"));
        });
    }

    @Test
    @Order(5)
    void aServiceFeatureSetAtRuntime_appearsInTheQube() throws Exception {
        step("feature service.compart-probe=1 set at runtime appears in work's QubesDB", () -> {
            admin.ok("admin.vm.feature.Set", "service.compart-probe", "work", "1");
            awaitConsole("work", Pattern.compile("COMPART-QUBE: qdb qubes-service/compart-probe = 1"), CHANGE);
        });
    }

    @Test
    @Order(6)
    void restartingTheGuestsQubesdbDaemon_resyncs() throws Exception {
        step("restarting work's qubesdb-daemon (systemctl restart qubes-db) resyncs", () -> {
            int pidsBefore = pids(console("work")).size();
            String domid = Dom0Host.run(List.of("xl", "domid", "work"), Duration.ofMinutes(1)).output().strip();
            Dom0Host.run(List.of("xenstore-write", "/local/domain/" + domid + "/data/compart-probe",
                    "restart-qubesdb"), Duration.ofMinutes(1)).requireSuccess(List.of("xenstore-write"));
            String after = awaitConsole("work", Pattern.compile("qubes-db.service restarted: active"), CHANGE);
            admin.ok("admin.vm.feature.Set", "service.compart-after-restart", "work", "1");
            String resynced = awaitConsole("work",
                    Pattern.compile("COMPART-QUBE: qdb qubes-service/compart-after-restart = 1"), CHANGE);
            assertThat(pids(after)).as("qubesdb-daemon pids seen").hasSizeGreaterThan(pidsBefore);
            assertThat(lastDump(resynced)).contains("name = work", "qubes-ip = " + workIp,
                    "qubes-service/compart-probe = 1");
        });
    }

    @Test
    @Order(7)
    void cleanShutdown_ofBothQubes() throws Exception {
        step("admin.vm.Shutdown work, then sys-net: systemd powers them off", () -> {
            for (String qube : List.of("work", "sys-net")) {
                long t0 = System.nanoTime();
                admin.ok("admin.vm.Shutdown", "", qube, "");
                long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
                while (Dom0Host.domainExists(qube)) {
                    assertThat(System.nanoTime()).as("%s still running 5 min after its shutdown", qube)
                            .isLessThan(deadline);
                    Thread.sleep(500);
                }
                say("admin.vm.Shutdown %s -> domain gone: %.1f s", qube, seconds(t0));
                assertThat(console(qube)).contains("reboot: Power down");
            }
        });
    }

    @AfterAll
    void stop() throws Exception {
        if (daemon != null) {
            for (String qube : List.of("work", "sys-net")) {
                if (Dom0Host.domainExists(qube)) {
                    admin.call("admin.vm.Kill", "", qube, "");
                }
            }
            daemon.close();
        }
        for (String qube : List.of("work", "sys-net")) {
            Path log = Path.of("/var/log/xen/console/guest-" + qube + ".log");
            if (Files.exists(log)) {
                Files.createDirectories(Dom0Host.out().resolve("guests"));
                Files.copy(log, Dom0Host.out().resolve("guests/qubesdb-" + qube + ".log"),
                        StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    static String console(String qube) {
        return Dom0Host.read(Path.of("/var/log/xen/console/guest-" + qube + ".log"));
    }

    /** Waits until the qube's console matches {@code pattern}; fails with the console's end if it does not. */
    static String awaitConsole(String qube, Pattern pattern, Duration timeout) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        long heartbeat = start;
        while (System.nanoTime() < deadline) {
            String console = console(qube);
            if (pattern.matcher(console).find()) {
                return console;
            }
            if (System.nanoTime() - heartbeat > 60_000_000_000L) { // shows that dom0 lives, and what the qubes do
                heartbeat = System.nanoTime();
                say("waiting %.0f s for %s's /%s/; its last console line: %s; xl list: %s", seconds(start), qube,
                        pattern, console.lines().reduce((a, b) -> b).orElse("(none)"),
                        Dom0Host.run(List.of("xl", "list"), Duration.ofSeconds(30)).output().replaceAll("\\s+", " "));
            }
            Thread.sleep(1000);
        }
        List<String> lines = console(qube).lines().toList();
        throw new AssertionError(qube + "'s console did not show /" + pattern + "/ within " + timeout.toSeconds()
                + " s; its last lines:\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 60),
                lines.size())));
    }

    /** The entries of the last complete QubesDB dump the report unit printed ("path = value", without "/"). */
    static List<String> lastDump(String console) {
        int end = console.lastIndexOf("COMPART-QUBE: qdb-end");
        int begin = console.lastIndexOf("COMPART-QUBE: qdb-begin", end);
        return console.substring(begin, end).lines().filter(l -> l.startsWith("COMPART-QUBE: qdb "))
                .map(l -> l.substring("COMPART-QUBE: qdb ".length())).toList();
    }

    static List<String> pids(String console) {
        Matcher m = Pattern.compile("COMPART-QUBE: qubesdb-daemon pid=(\\d+)").matcher(console);
        var pids = new java.util.ArrayList<String>();
        while (m.find()) {
            pids.add(m.group(1));
        }
        return pids;
    }

    static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    static void say(String format, Object... args) {
        System.out.println("COMPART-XENHOST: QubesDbIT " + String.format(format, args));
    }
}
