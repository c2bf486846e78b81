package compart.core.qrexec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import compart.policy.Policy;
import compart.policy.QubeInfo;
import compart.policy.Resolution;
import compart.policy.SystemInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * compartd's qrexec daemon against Qubes' own, unmodified {@code qrexec-agent} and {@code qrexec-client-vm} of
 * Qubes R4.3 (qrexec 4.3.12, protocol 4) and R4.2 (qrexec 4.2.25, protocol 3), compiled from the upstream
 * tarballs. Only the transport differs from a qube: libvchan-xen is replaced by
 * {@code src/test/c/vchan-over-socket} (each vchan a Unix socket) and dom0's side by {@link SocketVchanTransport}.
 * Two pretend qubes, {@code work} (domain 11) and {@code personal} (domain 12), each run an agent. Skipped without
 * root, gcc or the sources.
 */
class UpstreamQrexecAgentTest {
    static final String POLICY = """
            test.Echo       *   work      personal  allow
            test.Echo       *   work      @dispvm   allow
            test.Echo       *   @anyvm    @anyvm    deny
            qubes.GetDate   *   @anyvm    dom0      allow
            test.Block      *   @anyvm    dom0      allow
            test.NoSuch     *   @anyvm    dom0      allow
            """;
    static final String ECHO = "printf 'arg=%s from=%s\\n' \"$1\" \"$QREXEC_REMOTE_DOMAIN\"; cat; exit 7";

    private final List<AgentQube> qubes = new ArrayList<>();
    private final List<Resolution> decisions = new CopyOnWriteArrayList<>();
    private final ListAppender<ILoggingEvent> audit = new ListAppender<>();
    private Path base;
    private SocketVchanTransport transport;
    private QrexecRouter router;
    private volatile SystemInfo system;

    private UpstreamQrexec setUp(String release) throws Exception {
        return setUp(release, QrexecDaemon.DEFAULT_PENDING_LIMIT);
    }

    private UpstreamQrexec setUp(String release, int pendingLimit) throws Exception {
        assumeTrue(UpstreamQrexec.available(), UpstreamQrexec.missing());
        var upstream = UpstreamQrexec.build(release);
        base = Files.createTempDirectory("cq");
        Path vchans = Files.createDirectories(base.resolve("v"));
        transport = new SocketVchanTransport(vchans);
        var policyDir = Files.createDirectories(base.resolve("policy.d"));
        var policy = Policy.parse(POLICY, "30-test.policy", policyDir);
        system = SystemInfo.of(List.of(appVm("work"), appVm("personal"), new QubeInfo("dvm", "AppVM", Set.of(), true,
                null, "Halted", "00000000-0000-0000-0000-000000000010", false, null, null, null)));
        router = new QrexecRouter(transport, () -> policy, () -> system, decisions::add);
        router.pendingLimit(pendingLimit);
        audit.start();
        var logger = (Logger) LoggerFactory.getLogger(Policy.AUDIT_LOGGER);
        logger.setLevel(Level.INFO);
        logger.addAppender(audit);
        qubes.add(new AgentQube(upstream, "work", 11, vchans).service("test.Echo", ECHO));
        qubes.add(new AgentQube(upstream, "personal", 12, vchans).service("test.Echo", ECHO));
        for (AgentQube q : qubes) {
            q.start();
            router.attach(q.name(), q.domid(), Duration.ofSeconds(20));
        }
        return upstream;
    }

    private static QubeInfo appVm(String name) {
        return new QubeInfo(name, "AppVM", Set.of(), false, "dvm", "Running", "00000000-0000-0000-0000-0000000000"
                + (name.equals("work") ? "11" : "12"), false, null, null, null);
    }

    private AgentQube qube(String name) {
        return qubes.stream().filter(q -> q.name().equals(name)).findFirst().orElseThrow();
    }

    private List<String> auditLines() {
        return audit.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    /** What qrexec-client-vm shows for a refused call (exit 126), and dom0's audit line for it. */
    private void assertRefusedAndAudited(AgentQube.Run r, String call, String decision) {
        assertThat(r.exitCode()).isEqualTo(126);
        assertThat(r.stderr()).contains("Request refused");
        assertThat(auditLines()).anyMatch(l -> l.contains(call) && l.contains(decision));
    }

    @AfterEach
    void tearDown() throws Exception {
        ((Logger) LoggerFactory.getLogger(Policy.AUDIT_LOGGER)).detachAppender(audit);
        if (router != null) {
            router.close();
        }
        for (AgentQube q : qubes) {
            q.close();
        }
        if (base != null) {
            try (var files = Files.walk(base)) {
                files.sorted((a, b) -> b.compareTo(a)).forEach(f -> f.toFile().delete());
            }
        }
    }

    static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within 20 s").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.3.12", "4.2.25"})
    void theHandshake_settlesOnTheAgentsProtocolVersion(String release) throws Exception {
        var upstream = setUp(release);

        assertThat(upstream.protocol()).isEqualTo(release.startsWith("4.3") ? 4 : 3);
        assertThat(router.daemonOf("work").protocolVersion()).isEqualTo(upstream.protocol());
        assertThat(router.connected("work")).isTrue();
        assertThat(router.connected("personal")).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.3.12", "4.2.25"})
    void aCommandFromDom0_movesStdinStdoutStderrAndTheExitCode_andTheAgentsTerminationFreesItsPort(String release)
            throws Exception {
        setUp(release);
        var daemon = router.daemonOf("work");

        var r = router.run("work", "root", "read x; echo \"out:$x\"; echo \"err:$x\" >&2; exit 3",
                "hello\n".getBytes(StandardCharsets.UTF_8));

        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).isEqualTo("out:hello\n");
        assertThat(new String(r.stderr(), StandardCharsets.UTF_8)).isEqualTo("err:hello\n");
        await(() -> daemon.portsInUse() == 0);
        assertThat(daemon.terminations()).isEqualTo(1);
        assertThat(transport.dataChannels()).containsExactly("offer 11 513");
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.3.12", "4.2.25"})
    void aServiceCallFromDom0_runsTheQubesService(String release) throws Exception {
        setUp(release);

        var r = router.run("personal", "user", "QUBESRPC test.Echo+fromdom0 dom0", "x\n".getBytes());

        assertThat(r.exitCode()).isEqualTo(7);
        assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).isEqualTo("arg=fromdom0 from=dom0\nx\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.3.12", "4.2.25"})
    void anAllowedCallBetweenQubes_connectsThemDirectly_dom0OpensNoDataChannel(String release) throws Exception {
        setUp(release);

        var r = qube("work").clientVm("personal", "test.Echo+hi", "ping\n");

        assertThat(r.exitCode()).as(r.stderr()).isEqualTo(7);
        assertThat(r.stdout()).isEqualTo("arg=hi from=work\nping\n");
        assertThat(transport.dataChannels()).isEmpty();
        assertThat(auditLines()).anyMatch(l -> l.contains("work -> personal") && l.contains("test.Echo+hi")
                && l.contains("allowed"));
        var target = router.daemonOf("personal");
        await(() -> target.portsInUse() == 0);
        assertThat(target.terminations()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.3.12", "4.2.25"})
    void aCallToDispvm_runsInANewDisposable_disposedOnlyAfterItsAgentReportsTheEndOfTheCall(String release)
            throws Exception {
        var upstream = setUp(release);
        var disposed = new CopyOnWriteArrayList<String>();
        Path vchans = base.resolve("v");
        router.targets(new QrexecRouter.Targets() {
            @Override
            public String startDisposable(String base, String caller) {
                try {
                    var disp = new AgentQube(upstream, "disp7", 13, vchans).service("test.Echo", ECHO)
                            .start();
                    qubes.add(disp);
                    var list = new ArrayList<>(system.qubes().values());
                    list.add(new QubeInfo("disp7", "DispVM", Set.of(), false, null, "Running",
                            "00000000-0000-0000-0000-000000000013", false, null, null, null));
                    system = SystemInfo.of(list);
                    router.attach("disp7", 13, Duration.ofSeconds(20));
                    return "disp7";
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public void startForCall(String qube) {
                throw new IllegalStateException("no autostart here");
            }

            @Override
            public void dispose(String qube) {
                assertThat(router.daemonOf(qube).terminations()).as("the end of the call, before disposal")
                        .isEqualTo(1);
                router.detach(qube);
                disposed.add(qube);
            }
        });

        var r = qube("work").clientVm("@dispvm", "test.Echo+d", "x\n");

        assertThat(r.exitCode()).as(r.stderr()).isEqualTo(7);
        assertThat(r.stdout()).isEqualTo("arg=d from=work\nx\n");
        await(() -> disposed.equals(List.of("disp7")));
        assertThat(transport.dataChannels()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.3.12", "4.2.25"})
    void aDeniedCall_isRefusedWith126_andTheChannelStaysUp(String release) throws Exception {
        setUp(release);

        assertRefusedAndAudited(qube("personal").clientVm("work", "test.Echo+hi", ""), "personal -> work",
                "denied");
        assertThat(router.daemonOf("personal").refusals()).isEqualTo(1);
        assertThat(qube("work").clientVm("personal", "test.Echo+again", "").exitCode()).isEqualTo(7);
        assertThat(qube("personal").clientVm("work", "test.Echo", "").exitCode()).isEqualTo(126);
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.3.12", "4.2.25"})
    void badTargetOrServiceNames_areRefusedOrCleanedAsQubesDoes_andTheChannelStaysUp(String release)
            throws Exception {
        setUp(release);
        var work = qube("work");

        assertThat(work.clientVm("personal", "+test.Echo", "").exitCode()).isEqualTo(126);
        assertThat(work.clientVm("per/sonal", "test.Echo", "").exitCode()).isEqualTo(126);
        assertThat(auditLines()).anyMatch(l -> l.contains("work -> per_sonal") && l.contains("denied"));
        // as Qubes' daemon: bytes outside the allowed set become '_' before the policy sees the name
        assertThat(work.clientVm("personal", "test.Echo+a/b", "").stdout()).isEqualTo("arg=a_b from=work\n");

        assertThat(router.daemonOf("work").refusals()).isEqualTo(2);
        assertThat(work.clientVm("personal", "test.Echo+ok", "").stdout()).isEqualTo("arg=ok from=work\n");
        assertThat(work.agentAlive()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.3.12", "4.2.25"})
    void qubesGetDate_inDom0_answersWithDom0sUtcTime_anUnknownDom0Service_isRefusedAndAudited(String release) throws Exception {
        setUp(release);

        var r = qube("work").clientVm("dom0", "qubes.GetDate", "");

        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\+00:00\n");
        assertThat(transport.dataChannels()).containsExactly("connect 11 513");
        await(() -> router.daemonOf("work").portsInUse() == 0);

        // a service dom0 does not have, though the policy allows it: refused, audited, no data channel
        assertRefusedAndAudited(qube("work").clientVm("dom0", "test.NoSuch", ""), "work -> dom0: test.NoSuch",
                "denied: dom0 has no service test.NoSuch");
        assertThat(transport.dataChannels()).containsExactly("connect 11 513");
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.3.12", "4.2.25"})
    void callsBeyondTheQubesPendingLimit_areRefused_othersGoOn(String release) throws Exception {
        var started = new CountDownLatch(1);
        var release1 = new CountDownLatch(1);
        setUp(release, 1);
        router.dom0Service(blocking(started, release1));

        var first = qube("work").clientVmInBackground("dom0", "test.Block");
        assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
        var second = qube("work").clientVm("dom0", "test.Block", "");
        var other = qube("personal").clientVm("dom0", "qubes.GetDate", "");
        release1.countDown();
        first.getOutputStream().close();

        assertThat(second.exitCode()).isEqualTo(126);
        assertThat(other.exitCode()).isZero();
        assertThat(first.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).isZero();
        assertThat(new String(first.getInputStream().readAllBytes())).isEqualTo("released\n");
    }

    private static Dom0Service blocking(CountDownLatch started, CountDownLatch release) {
        return Dom0Service.of("test.Block", false, (caller, argument, stdin) -> {
            started.countDown();
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new QrexecRouter.Result(0, "released\n".getBytes(), new byte[0]);
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.3.12", "4.2.25"})
    void aRestartedAgent_isConnectedAgain_andServesCommands(String release) throws Exception {
        setUp(release);
        var work = qube("work");
        var daemon = router.daemonOf("work");

        work.kill();
        work.start();

        await(() -> daemon.reconnects() == 1);
        var r = router.run("work", "root", "echo back", new byte[0]);
        assertThat(r.exitCode()).isZero();
        assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).isEqualTo("back\n");
        assertThat(work.clientVm("personal", "test.Echo+after", "").exitCode()).isEqualTo(7);
    }

    /** A figure, not an assertion: the latency of a dom0 -> qube command over the socket transport. */
    @ParameterizedTest
    @ValueSource(strings = {"4.3.12"})
    void latencyOfCommandsFromDom0_isPrinted(String release) throws Exception {
        setUp(release);
        for (String kind : List.of("command", "service")) {
            long[] nanos = new long[20];
            for (int i = 0; i < nanos.length; i++) {
                long t0 = System.nanoTime();
                var r = kind.equals("command") ? router.run("work", "root", "true", new byte[0])
                        : router.run("work", "user", "QUBESRPC test.Echo+x dom0", new byte[0]);
                nanos[i] = System.nanoTime() - t0;
                assertThat(r.exitCode()).isIn(0, 7);
            }
            Arrays.sort(nanos);
            System.out.printf("qrexec dom0 -> qube %s (%s, socket transport): p50 %.1f ms, p95 %.1f ms over %d%n",
                    kind, release, nanos[10] / 1e6, nanos[18] / 1e6, nanos.length);
        }
    }
}
