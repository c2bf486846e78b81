package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import compart.policy.Policy;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** Admin API calls from qubes other than dom0, decided by the qrexec policy of {@code --policy-dir}. */
class PolicyForQubesTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor()
            .withTemplate("fedora", "black")
            .withAppVm("mgmt", "fedora", "red")
            .withAppVm("work", "fedora", "blue")
            .withAppVm("other", "fedora", "blue")
            .startedByTheTest();
    final Wire wire = compartd.admin();
    ListAppender<ILoggingEvent> audit = new ListAppender<>();

    static final String POLICY = """
            admin.vm.List            *        mgmt  @adminvm       allow
            admin.vm.List            *        mgmt  work           allow target=dom0
            admin.vm.List            *        mgmt  mgmt           allow target=dom0
            admin.vm.List            *        mgmt  other          allow
            admin.vm.property.Get    +netvm   mgmt  work           allow target=dom0
            admin.vm.property.Get    +memory  mgmt  @tag:managed   allow target=dom0
            admin.vm.Start           *        mgmt  work           ask default_target=work
            admin.vm.Shutdown        *        mgmt  @anyvm         deny
            admin.vm.Kill            *        mgmt  work           allow target=other
            """;

    @BeforeEach
    void captureAudit() {
        audit.start();
        var logger = (Logger) LoggerFactory.getLogger(Policy.AUDIT_LOGGER);
        logger.setLevel(ch.qos.logback.classic.Level.INFO);
        logger.setAdditive(false);
        logger.addAppender(audit);
    }

    @AfterEach
    void stopCapturing() {
        ((Logger) LoggerFactory.getLogger(Policy.AUDIT_LOGGER)).detachAppender(audit);
    }

    @Test
    void allowRule_letsTheCallThrough_andEveryOtherCallIsRefused() throws Exception {
        compartd.policy(POLICY).start();
        assertThat(wire.from("mgmt", "admin.vm.property.Get", "netvm", "work", ""))
                .startsWith("0|default=True type=vm ");
        assertThat(wire.from("mgmt", "admin.vm.property.Get", "memory", "work", ""))
                .isEqualTo("2|PermissionDenied||Request refused|");
        assertThat(wire.from("mgmt", "admin.vm.property.Get", "netvm", "other", "")).startsWith("2|PermissionDenied|");
        assertThat(wire.from("work", "admin.vm.property.Get", "netvm", "work", "")).startsWith("2|PermissionDenied|");
        wire.ok("admin.vm.tag.Set", "managed", "other", "");
        assertThat(wire.from("mgmt", "admin.vm.property.Get", "memory", "other", "")).startsWith("0|");
    }

    @Test
    void askDenyAndRedirectedTargets_areRefused_withOneAuditLinePerDecision() throws Exception {
        compartd.policy(POLICY).start();
        audit.list.clear();
        assertThat(wire.from("mgmt", "admin.vm.Start", "", "work", "")).startsWith("2|PermissionDenied|");
        assertThat(wire.from("mgmt", "admin.vm.Shutdown", "", "work", "")).startsWith("2|PermissionDenied|");
        assertThat(wire.from("mgmt", "admin.vm.Kill", "", "work", "")).startsWith("2|PermissionDenied|");
        assertThat(wire.ok("admin.vm.CurrentState", "", "work", "")).endsWith("power_state=Halted");
        assertThat(audit.list).hasSize(3);
        assertThat(audit.list.get(1).getFormattedMessage()).contains("mgmt").contains("admin.vm.Shutdown")
                .contains("denied");
    }

    @Test
    void vmList_fromAQube_showsOnlyWhatThePolicyLetsItList_inDom0() throws Exception {
        compartd.policy(POLICY).start();
        String list = wire.from("mgmt", "admin.vm.List", "", "dom0", "");
        assertThat(list).startsWith("0|");
        assertThat(list.substring(2).lines().map(l -> l.split(" ")[0])).containsExactly("dom0", "mgmt", "work");
        assertThat(wire.from("other", "admin.vm.List", "", "dom0", "")).startsWith("2|PermissionDenied|");
    }

    @Test
    void withoutAPolicy_everyCallFromAQubeIsRefused_butDom0IsServed() throws Exception {
        compartd.start(); // no policy file
        assertThat(wire.from("mgmt", "admin.vm.List", "", "dom0", "")).startsWith("2|PermissionDenied|");
        assertThat(wire.from("mgmt", "admin.vm.property.Get", "netvm", "work", "")).startsWith("2|PermissionDenied|");
        assertThat(wire.from("nosuchqube", "admin.vm.List", "", "dom0", "")).startsWith("2|PermissionDenied|");
        assertThat(wire.ok("admin.vm.List", "", "dom0", "")).contains("mgmt class=AppVM");
    }

    @Test
    void policyFileWrittenWhileRunning_isUsedWithoutARestart() throws Exception {
        compartd.policy("").start();
        assertThat(wire.from("mgmt", "admin.vm.property.Get", "netvm", "work", "")).startsWith("2|PermissionDenied|");
        Files.writeString(compartd.policyDir().resolve("30-admin.policy"), POLICY);
        String r = "";
        for (int i = 0; i < 100 && !r.startsWith("0|"); i++) {
            Thread.sleep(50);
            r = wire.from("mgmt", "admin.vm.property.Get", "netvm", "work", "");
        }
        assertThat(r).startsWith("0|");
    }
}
