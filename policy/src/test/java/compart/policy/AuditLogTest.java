package compart.policy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** decide() writes exactly one line per decision to the SLF4J logger compart.policy.audit. */
class AuditLogTest {

    @Test
    void decide_writesOneLinePerDecision_toTheAuditLogger() {
        Logger audit = (Logger) LoggerFactory.getLogger(Policy.AUDIT_LOGGER);
        ListAppender<ILoggingEvent> seen = new ListAppender<>();
        seen.start();
        audit.addAppender(seen);
        try {
            Policy p = PolicyFixtures.policy("qubes.X * work vault allow\nqubes.X * @anyvm @anyvm deny\n");
            p.decide(Request.of("qubes.X", "work", "vault"), PolicyFixtures.system(), false);
            p.decide(Request.of("qubes.X", "personal", "vault"), PolicyFixtures.system(), false);
            PolicyFixtures.policy("broken").decide(Request.of("qubes.X", "work", "vault"), PolicyFixtures.system(), false);
            assertThat(seen.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
                    "qrexec: qubes.X+: work -> vault: allowed to vault",
                    "qrexec: qubes.X+: personal -> vault: denied: denied by policy test.policy:2",
                    "qrexec: qubes.X+: work -> vault: error loading policy: test.policy:1: wrong number of fields "
                            + "(a rule is SERVICE ARGUMENT SOURCE TARGET ACTION [PARAM=VALUE ...]; write * for any "
                            + "service or argument (found 1 field))");
            assertThat(seen.list.get(2).getLevel().toString()).isEqualTo("ERROR");
        } finally {
            audit.detachAppender(seen);
        }
    }
}
