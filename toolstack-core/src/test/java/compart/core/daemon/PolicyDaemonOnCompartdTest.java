package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import compart.policy.LivePolicy;
import compart.policy.Request;
import compart.policy.Resolution;
import compart.policy.daemon.PolicyDaemon;
import compart.policy.daemon.SystemInfoSource;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * End to end: compartd (test hypervisor) serves its internal socket, and the policy module's daemon and evaluator,
 * which learn the qubes from {@code internal.GetSystemInfo} there as on Qubes, decide calls by {@code @tag:} rules.
 */
class PolicyDaemonOnCompartdTest {
    static final String RULES = """
            test.Echo  *  @anyvm  @tag:trusted  allow
            test.Echo  *  @anyvm  @anyvm        deny
            """;

    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().policy(RULES)
            .withTemplate("fedora", "black")
            .withAppVm("work", "fedora", "blue")
            .withAppVm("vault", "fedora", "black")
            .withAppVm("other", "fedora", "red");
    final Wire admin = compartd.admin();
    Path internalSocket;
    LivePolicy policy;
    PolicyDaemon policyDaemon;
    Path policySocket;

    @BeforeEach
    void startThePolicyDaemon() throws Exception {
        admin.ok("admin.vm.tag.Set", "trusted", "vault", "");

        internalSocket = compartd.internal().socket();
        policy = new LivePolicy(List.of(compartd.policyDir()), null);
        assertThat(policy.current().valid()).isTrue();
        policySocket = compartd.dir().resolve("policy.sock");
        policyDaemon = new PolicyDaemon(policySocket, policy::current, SystemInfoSource.qubesd(internalSocket),
                Duration.ofSeconds(5));
    }

    @AfterEach
    void stopThePolicyDaemon() {
        if (policyDaemon != null) {
            policyDaemon.close();
        }
        if (policy != null) {
            policy.close();
        }
    }

    /** @return the policy daemon's answer to one request, as Qubes' qrexec-daemon would send it */
    String ask(String source, String target, String serviceAndArg) throws Exception {
        try (var ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(policySocket));
            var req = ByteBuffer.wrap(("source=" + source + "\nintended_target=" + target + "\nservice_and_arg="
                    + serviceAndArg + "\n\n").getBytes(StandardCharsets.US_ASCII));
            while (req.hasRemaining()) {
                ch.write(req);
            }
            return new String(Wire.readToEnd(ch), StandardCharsets.US_ASCII);
        }
    }

    @Test
    void policyDaemon_allowsACallToATaggedQube_andDeniesAnUntaggedOne() throws Exception {
        String allowed = ask("work", "vault", "test.Echo+");
        assertThat(allowed).contains("result=allow").contains("target=vault\n");
        String vaultUuid = admin.ok("admin.vm.property.Get", "uuid", "vault", "").replaceAll(".* ", "");
        assertThat(allowed).contains("target_uuid=uuid:" + vaultUuid);
        assertThat(ask("work", "other", "test.Echo+")).contains("result=deny");
    }

    @Test
    void policyDaemon_seesTagChangesInCompartd_atTheNextCall() throws Exception {
        assertThat(ask("work", "other", "test.Echo+")).contains("result=deny");
        admin.ok("admin.vm.tag.Set", "trusted", "other", "");
        assertThat(ask("work", "other", "test.Echo+")).contains("result=allow").contains("target=other\n");
        admin.ok("admin.vm.tag.Remove", "trusted", "vault", "");
        assertThat(ask("work", "vault", "test.Echo+")).contains("result=deny");
    }

    @Test
    void evaluator_decidesWithTheSystemInfoOfCompartd() throws Exception {
        admin.ok("admin.vm.feature.Set", "internal", "fedora", "1");
        var system = SystemInfoSource.qubesd(internalSocket).get();
        assertThat(system.find("fedora").internal()).as("feature internal=1 (a string, as qubesd "
                + "sends it) marks the qube internal").isTrue();
        assertThat(system.find("work").internal()).isFalse();
        var p = policy.current();
        assertThat(p.decide(new Request("test.Echo", "+", "work", "vault"), system, false))
                .isInstanceOfSatisfying(Resolution.Allow.class, a -> assertThat(a.target()).isEqualTo("vault"));
        assertThat(p.decide(new Request("test.Echo", "+", "work", "other"), system, false))
                .isInstanceOf(Resolution.Deny.class);
        assertThat(p.decide(new Request("test.Echo", "+", "vault", "work"), system, false))
                .isInstanceOf(Resolution.Deny.class);
    }
}
