package compart.core.qrexec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import compart.core.api.AdminApi;
import compart.core.hypervisor.DomainStatus;
import compart.core.hypervisor.test.TestHypervisor;
import compart.core.model.QubeClass;
import compart.core.ops.FilePoolToolstack;
import compart.core.ops.PowerState;
import compart.core.ops.Toolstack;
import compart.policy.Policy;
import compart.policy.Resolution;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The router's decision and target handling for a call from a qube, on the simulated hypervisor: the policy
 * decides (one audit line), {@code @dispvm} creates a real disposable (volumes in a real file pool), starts it on
 * the {@code test} hypervisor, runs the call in it and then kills and removes it; a halted named target is started
 * when the rule allows. Only the last hop, the data vchans to the agents, is replaced here by the call body (the
 * Xen host's tests run it for real).
 */
class QrexecRouterTargetsTest {
    @TempDir
    Path dir;
    TestHypervisor hv;
    Toolstack ts;
    QrexecRouter router;
    final List<Resolution> decisions = new CopyOnWriteArrayList<>();
    final ListAppender<ILoggingEvent> audit = new ListAppender<>();

    static final String POLICY = """
            test.Echo   *  work  @dispvm        allow
            test.Echo   *  work  @dispvm:dvm    allow
            test.Echo   *  work  @dispvm:work   allow
            test.Echo   *  work  other          allow
            test.Echo   *  work  quiet          allow autostart=no
            test.Echo   *  nodefault  @dispvm   allow
            test.Echo   *  @anyvm  @anyvm       deny
            test.Open   *  work  @default       allow target=@dispvm:dvm user=root
            """;

    @BeforeEach
    void setUp() throws IOException {
        hv = new TestHypervisor(8192, 4);
        var r = new Random(11);
        ts = FilePoolToolstack.withFedora(dir, hv, r);
        FilePoolToolstack.addDisposableTemplate(ts, r);
        for (String name : List.of("work", "other", "quiet", "nodefault")) {
            ts.create(name, i -> i.withNewQube(QubeClass.AppVM, name, "blue", Optional.of("fedora"), r));
        }
        ts.change(i -> i.withProperty("work", "default_dispvm", "dvm"));
        var api = new AdminApi(ts);
        Path policyDir = Files.createDirectories(dir.resolve("policy.d"));
        var policy = Policy.parse(POLICY, "30-test.policy", policyDir);
        assertThat(policy.diagnostics()).isEmpty();
        router = new QrexecRouter(() -> policy, api::systemInfo, decisions::add);
        router.targets(ts.disposables());
        audit.start();
        var logger = (Logger) LoggerFactory.getLogger(Policy.AUDIT_LOGGER);
        logger.setLevel(Level.INFO);
        logger.addAppender(audit);
    }

    @AfterEach
    void tearDown() {
        ((Logger) LoggerFactory.getLogger(Policy.AUDIT_LOGGER)).detachAppender(audit);
        router.close();
        ts.close();
    }

    /** What the call body saw of its target while the call ran. */
    record Seen(String qube, String user, QubeClass klass, PowerState state, String template, Set<String> tags,
                boolean domainExists) {
    }

    QrexecRouter.Connector recording(List<Seen> seen) {
        return (qube, user) -> {
            var q = ts.inventory().qube(qube);
            seen.add(new Seen(qube, user, q.klass(), ts.powerState(qube), ts.inventory().value(q, "template")
                    .orElse(""), q.tags(), hv.list().stream().map(DomainStatus::name).anyMatch(qube::equals)));
        };
    }

    List<Path> volumeFilesOf(String qube) throws IOException {
        try (var files = Files.walk(dir.resolve("pool"))) {
            return files.filter(Files::isRegularFile).filter(f -> f.toString().contains("/" + qube + "/")).toList();
        }
    }

    List<String> auditLines() {
        return audit.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void dispvmTarget_runsTheCallInANewRunningDisposable_thenKillsAndRemovesIt() throws IOException {
        var seen = new ArrayList<Seen>();

        boolean ran = router.call("work", "test.Echo+hi", "@dispvm", recording(seen));

        assertThat(ran).isTrue();
        assertThat(seen).singleElement().satisfies(s -> {
            assertThat(s.qube()).matches("disp[0-9]+");
            assertThat(s.klass()).isEqualTo(QubeClass.DispVM);
            assertThat(s.state()).isEqualTo(PowerState.Running);
            assertThat(s.domainExists()).isTrue();
            assertThat(s.template()).isEqualTo("dvm");
            assertThat(s.tags()).contains("created-by-work", "disp-created-by-work");
            assertThat(s.user()).isEqualTo("user");
        });
        String disp = seen.getFirst().qube();
        assertThat(ts.inventory().find(disp)).isEmpty();
        assertThat(hv.list()).extracting(DomainStatus::name).doesNotContain(disp);
        assertThat(volumeFilesOf(disp)).isEmpty();
        assertThat(decisions).singleElement().isInstanceOfSatisfying(Resolution.Allow.class,
                a -> assertThat(a.target()).isEqualTo("@dispvm:dvm"));
        assertThat(auditLines()).singleElement().asString().contains("work -> @dispvm")
                .contains("allowed to @dispvm:dvm");
    }

    @Test
    void namedDispvmTarget_andPolicyRedirect_useThatTemplate_andTheRulesUser() {
        var seen = new ArrayList<Seen>();

        assertThat(router.call("work", "test.Echo", "@dispvm:dvm", recording(seen))).isTrue();
        assertThat(router.call("work", "test.Open", "", recording(seen))).isTrue();

        assertThat(seen).hasSize(2).allSatisfy(s -> {
            assertThat(s.template()).isEqualTo("dvm");
            assertThat(s.state()).isEqualTo(PowerState.Running);
        });
        assertThat(seen.get(1).user()).isEqualTo("root");
        assertThat(seen.get(0).qube()).isNotEqualTo(seen.get(1).qube());
        assertThat(ts.inventory().qubes().keySet()).noneMatch(n -> n.startsWith("disp"));
    }

    @Test
    void aCallThatFails_stillRemovesItsDisposable() {
        var names = new ArrayList<String>();

        assertThatThrownBy(() -> router.call("work", "test.Echo", "@dispvm", (qube, user) -> {
            names.add(qube);
            throw new IllegalStateException("the agent went away");
        })).hasMessageContaining("the agent went away");

        assertThat(names).hasSize(1);
        assertThat(ts.inventory().find(names.getFirst())).isEmpty();
        assertThat(hv.list()).extracting(DomainStatus::name).doesNotContain(names.getFirst());
    }

    @Test
    void aDisposableThatCannotStart_isRemoved_andTheCallFails() {
        ts.change(i -> i.withProperty("dvm", "memory", "100000")); // more than the simulated host has

        assertThatThrownBy(() -> router.call("work", "test.Echo", "@dispvm", recording(new ArrayList<>())))
                .hasMessageContaining("Not enough memory");

        assertThat(ts.inventory().qubes().keySet()).noneMatch(n -> n.startsWith("disp"));
        assertThat(hv.list()).isEmpty();
    }

    @Test
    void refusedDispvmCalls_createNothing_andAreAudited() {
        var seen = new ArrayList<Seen>();

        assertThat(router.call("nodefault", "test.Echo", "@dispvm", recording(seen))).isFalse();
        assertThat(router.call("work", "test.Echo", "@dispvm:work", recording(seen))).isFalse();
        assertThat(router.call("other", "test.Echo", "@dispvm", recording(seen))).isFalse();

        assertThat(seen).isEmpty();
        assertThat(ts.inventory().qubes().keySet()).noneMatch(n -> n.startsWith("disp"));
        assertThat(decisions).hasSize(3).allMatch(d -> d instanceof Resolution.Deny);
        assertThat(auditLines()).hasSize(3);
        assertThat(auditLines().get(0)).contains("no DispVM base");
        assertThat(auditLines().get(1)).contains("not a template for dispvm: work");
        assertThat(auditLines().get(2)).contains("denied by policy 30-test.policy");
    }

    @Test
    void haltedNamedTarget_isStartedWhenTheRuleAllowsAutostart_andLeftRunning() {
        var seen = new ArrayList<Seen>();

        assertThat(router.call("work", "test.Echo", "other", recording(seen))).isTrue();
        assertThat(router.call("work", "test.Echo", "quiet", recording(seen))).isFalse();

        assertThat(seen).singleElement().satisfies(s -> {
            assertThat(s.qube()).isEqualTo("other");
            assertThat(s.state()).isEqualTo(PowerState.Running);
        });
        assertThat(ts.powerState("other")).isEqualTo(PowerState.Running);
        assertThat(ts.powerState("quiet")).isEqualTo(PowerState.Halted);
        assertThat(auditLines().get(1)).contains("would require autostart");
    }

    @Test
    void withoutTargets_aDispvmCallIsRefused_notRunSomewhereElse() {
        var bare = new QrexecRouter(() -> Policy.parse(POLICY, "30-test.policy", dir), new AdminApi(ts)::systemInfo,
                r -> { });
        var seen = new ArrayList<Seen>();

        assertThat(bare.call("work", "test.Echo", "@dispvm", recording(seen))).isFalse();
        assertThat(bare.call("work", "test.Echo", "other", recording(seen))).isFalse();

        assertThat(seen).isEmpty();
        assertThat(ts.inventory().qubes().keySet()).noneMatch(n -> n.startsWith("disp"));
    }
}
