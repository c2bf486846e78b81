package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.qrexec.QrexecRouter;
import compart.policy.Policy;
import compart.policy.QubeInfo;
import compart.policy.Resolution;
import compart.policy.SystemInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * qrexec for real: two PVH guests ({@code work}, {@code personal}) boot the harness's initramfs with Compart's
 * test agent appended (see {@code compart.xenhost.GuestAgent}); dom0's {@link QrexecRouter} connects to both
 * agents over vchans, runs commands in them, and decides calls between them with a policy directory.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QrexecIT {
    private static final String POLICY = """
            test.Echo  *  work      personal  allow
            test.Echo  *  personal  work      deny
            test.Ask   *  work      personal  ask default_target=personal
            """;

    private final List<TestGuest> guests = new ArrayList<>();
    private final List<Resolution> decisions = new CopyOnWriteArrayList<>();
    private Policy policy;
    private QrexecRouter router;
    private SystemInfo system;

    @BeforeAll
    void bootTwoQubesWithAgents() throws Exception {
        Path agentDir = Path.of(System.getProperty("compart.xenhost.share"), "guest", "qrexec");
        Assumptions.assumeTrue(Files.isExecutable(agentDir.resolve("qrexec-agent")),
                "the test agent was not compiled on the host (gcc + libxen-dev static libraries); see "
                        + agentDir.resolve("build.log"));
        Path initrd = Path.of("/var/lib/compart-it/qrexec-initrd.gz");
        buildInitrd(agentDir, initrd);
        Path policyDir = Files.createDirectories(Path.of("/var/lib/compart-it/policy.d"));
        Files.writeString(policyDir.resolve("30-test.policy"), POLICY);
        policy = Policy.load(List.of(policyDir), policyDir.resolve("legacy"));
        assertThat(policy.diagnostics()).isEmpty();

        for (String name : List.of("work", "personal")) {
            guests.add(TestGuest.pvh(name, initrd, "rdinit=/qrexec-init").create());
        }
        var qubes = new ArrayList<QubeInfo>();
        for (TestGuest guest : guests) {
            guest.awaitConsole("qrexec-agent listening", TestGuest.PVH_BOOT);
            qubes.add(new QubeInfo(guest.name(), "AppVM", Set.of(), false, null, "Running",
                    java.util.UUID.randomUUID().toString(), false, null, null, null));
        }
        system = SystemInfo.of(qubes);
        router = new QrexecRouter(() -> policy, () -> system, decisions::add);
        for (TestGuest guest : guests) {
            int domid = Integer.parseInt(Dom0Host.xl("domid", guest.name()).strip());
            router.attach(guest.name(), domid, Duration.ofMinutes(1));
        }
    }

    @Test
    @Order(1)
    void commandFromDom0_returnsStdoutStderrAndExitCode() {
        var r = router.run("work", "root", "echo hi; echo oops >&2; exit 3", new byte[0]);

        assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).isEqualTo("hi\n");
        assertThat(new String(r.stderr(), StandardCharsets.UTF_8)).isEqualTo("oops\n");
        assertThat(r.exitCode()).isEqualTo(3);
    }

    @Test
    @Order(2)
    void commandFromDom0_stdinReachesTheCommand() {
        byte[] input = "line one\nline two\n".repeat(2000).getBytes(StandardCharsets.UTF_8); // 36 KB, several chunks

        var r = router.run("personal", "user", "wc -c", input);

        assertThat(new String(r.stdout(), StandardCharsets.UTF_8).strip()).isEqualTo(Integer.toString(input.length));
        assertThat(r.exitCode()).isZero();
    }

    @Test
    @Order(3)
    void allowedCall_workToPersonal_movesDataBothWays_andReturnsTheServiceExitCode() {
        var r = router.run("work", "user", "echo ping | qrexec-client-vm personal test.Echo+abc; echo rc=$?",
                new byte[0]);

        String out = new String(r.stdout(), StandardCharsets.UTF_8);
        assertThat(out).contains("echo from work arg=abc").contains("ping").contains("rc=7");
        assertThat(decisions).anySatisfy(d -> {
            assertThat(d).isInstanceOf(Resolution.Allow.class);
            assertThat(d.rule()).endsWith("30-test.policy:1");
        });
    }

    @Test
    @Order(4)
    void deniedCall_personalToWork_isRefused_withAnAuditLineNamingTheRule() {
        decisions.clear();
        var r = router.run("personal", "user", "echo x | qrexec-client-vm work test.Echo; echo rc=$?", new byte[0]);

        assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).contains("rc=126");
        assertThat(new String(r.stderr(), StandardCharsets.UTF_8)).contains("Request refused");
        assertThat(decisions).singleElement().satisfies(d -> {
            assertThat(d).isInstanceOf(Resolution.Deny.class);
            assertThat(d.rule()).endsWith("30-test.policy:2");
            assertThat(d.log()).contains("personal").contains("work").contains("denied");
        });
    }

    @Test
    @Order(5)
    void askWithoutGui_isRefused_andCallNotInPolicy_isDeniedByDefault() {
        decisions.clear();
        var ask = router.run("work", "user", "qrexec-client-vm personal test.Ask </dev/null; echo rc=$?", new byte[0]);
        var none = router.run("work", "user", "qrexec-client-vm personal test.Other </dev/null; echo rc=$?",
                new byte[0]);

        assertThat(new String(ask.stdout(), StandardCharsets.UTF_8)).contains("rc=126");
        assertThat(new String(none.stdout(), StandardCharsets.UTF_8)).contains("rc=126");
        assertThat(decisions).hasSize(2);
        assertThat(decisions.get(0)).isInstanceOf(Resolution.Ask.class);
        assertThat(decisions.get(1)).isInstanceOf(Resolution.Deny.class);
    }

    @Test
    @Order(6)
    void latencyOfAnAllowedCall_andThePolicyShareOfIt() throws Exception {
        int rounds = 5;
        // the inner call's round trip, timed inside the caller qube (busybox date has no sub-second clock, so
        // time dom0's view of a command that makes one call minus the same command without it)
        long withCall = 0;
        long without = 0;
        for (int i = 0; i < rounds; i++) {
            long t0 = System.nanoTime();
            var call = router.run("work", "user", "echo p | qrexec-client-vm personal test.Echo >/dev/null; echo rc=$?",
                    new byte[0]);
            assertThat(new String(call.stdout(), StandardCharsets.UTF_8))
                    .as("round %d; the caller's stderr: %s", i, new String(call.stderr(), StandardCharsets.UTF_8))
                    .isEqualTo("rc=7\n");
            long t1 = System.nanoTime();
            router.run("work", "user", "echo p >/dev/null; echo rc=$?", new byte[0]);
            long t2 = System.nanoTime();
            withCall += t1 - t0;
            without += t2 - t1;
        }
        var request = compart.policy.Request.of("test.Echo", "work", "personal");
        SystemInfo system = this.system;
        int policyRounds = 2000;
        for (int i = 0; i < policyRounds; i++) {
            policy.evaluate(request, system, false);
        }
        long p0 = System.nanoTime();
        for (int i = 0; i < policyRounds; i++) {
            policy.evaluate(request, system, false);
        }
        long policyNanos = (System.nanoTime() - p0) / policyRounds;
        double callMs = (withCall - without) / 1e6 / rounds;
        String line = String.format("qrexec allowed call work->personal test.Echo: %.1f ms per call (%d rounds, "
                        + "dom0 command with call %.1f ms, without %.1f ms); policy decision %.1f us = %.3f%% of it",
                callMs, rounds, withCall / 1e6 / rounds, without / 1e6 / rounds, policyNanos / 1e3,
                100.0 * policyNanos / 1e6 / callMs);
        System.out.println(line);
        Files.createDirectories(Dom0Host.out());
        Files.writeString(Dom0Host.out().resolve("qrexec-latency.txt"), line + "\n");
        assertThat(callMs).isPositive();
    }

    @AfterAll
    void stop() {
        if (router != null) {
            router.close();
        }
        guests.forEach(TestGuest::close);
    }

    /**
     * Installs two kernel directories in {@code /var/lib/qubes/vm-kernels} with the harness's guest kernel:
     * {@code guest} (its own initramfs, which runs the guest tests and powers off) and {@code qrexec} (the qrexec
     * test agent's initramfs: with kernelopts {@code rdinit=/qrexec-init} the qube runs until it is shut down).
     * Skips the test when the harness could not compile the agent.
     */
    static void installKernelDirs() throws Exception {
        Path agentDir = QubeGuestImages.agentDir();
        Assumptions.assumeTrue(Files.isExecutable(agentDir.resolve("qrexec-agent")),
                "the test agent was not compiled on the host; see " + agentDir.resolve("build.log"));
        Path kernels = Path.of("/var/lib/qubes/vm-kernels");
        for (String k : List.of("guest", "qrexec")) {
            Files.createDirectories(kernels.resolve(k));
            Files.copy(Dom0Host.guestKernel(), kernels.resolve(k + "/vmlinuz"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            try (var f = new java.io.RandomAccessFile(kernels.resolve(k + "/modules.img").toFile(), "rw")) {
                f.setLength(1 << 20);
            }
        }
        Files.copy(Dom0Host.guestInitrd(), kernels.resolve("guest/initramfs"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path initrd = Path.of("/var/lib/compart-it/qrexec-initrd.gz");
        buildInitrd(agentDir, initrd);
        Files.copy(initrd, kernels.resolve("qrexec/initramfs"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** The harness's guest initramfs with the agent, its init, the test service and the Xen device modules. */
    static void buildInitrd(Path agentDir, Path target) throws Exception {
        Path root = Files.createTempDirectory("qrexec-overlay");
        Files.createDirectories(root.resolve("bin"));
        Files.createDirectories(root.resolve("etc/qubes-rpc"));
        Files.createDirectories(root.resolve("lib/modules/qrexec"));
        Files.copy(agentDir.resolve("qrexec-agent"), root.resolve("bin/qrexec-agent"));
        Files.copy(agentDir.resolve("qrexec-init.sh"), root.resolve("qrexec-init"));
        Files.copy(agentDir.resolve("test.Echo"), root.resolve("etc/qubes-rpc/test.Echo"));
        String kernel = Dom0Host.run(List.of("uname", "-r"), Duration.ofSeconds(10)).output().strip();
        Path xen = Path.of("/lib/modules", kernel, "kernel/drivers/xen");
        for (String module : List.of("xen-evtchn", "xen-gntdev", "xen-gntalloc")) {
            Files.copy(xen.resolve(module + ".ko"), root.resolve("lib/modules/qrexec/" + module + ".ko"));
        }
        Files.createDirectories(target.getParent());
        Files.copy(Dom0Host.guestInitrd(), target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Dom0Host.run(List.of("sh", "-c", "cd " + root + " && chmod 755 bin/qrexec-agent qrexec-init etc/qubes-rpc/test.Echo && "
                + "find . -mindepth 1 | sed 's|^\\./||' | cpio -o -H newc --quiet -R 0:0 | gzip -1 >> " + target),
                Duration.ofMinutes(1)).requireSuccess(List.of("cpio overlay"));
    }
}
