package compart.cli.command;

import static org.assertj.core.api.Assertions.assertThat;

import compart.cli.client.AdminClient;
import compart.cli.client.AdminSocket;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * qvm-firewall against a real compartd (the simulated {@code test} hypervisor): the listings of Qubes' own tool tests
 * ({@code tests/tools/qvm_firewall.py}) for the same stored rules, relative expiry, JSON, and help.
 */
class QvmFirewallTest {
    @TempDir
    Path dir;

    private CliTestDaemon daemon;

    /** @return a daemon in {@code dir} with a template {@code fedora} and an AppVM of it for each name */
    static CliTestDaemon daemonWithQubes(Path dir, String... names) {
        var started = new CliTestDaemon(dir);
        List<String[]> creations = new ArrayList<>();
        creations.add(new String[] {"--class", "TemplateVM", "--label", "black", "fedora"});
        Stream.of(names).map(n -> new String[] {"-t", "fedora", "-l", "red", n}).forEach(creations::add);
        for (String[] args : creations) {
            CliRun r = started.run("qvm-create", args);
            assertThat(r.code()).as("qvm-create %s: %s", String.join(" ", args), r.err()).isZero();
        }
        return started;
    }

    @BeforeEach
    void startDaemonWithAQube() {
        daemon = daemonWithQubes(dir, "test-vm");
    }

    @AfterEach
    void stopDaemon() {
        daemon.close();
    }

    private String ok(String command, String... args) {
        CliRun r = daemon.run(command, args);
        assertThat(r.code()).as("%s %s: %s", command, String.join(" ", args), r.err()).isZero();
        return r.out();
    }

    private AdminClient admin() {
        return new AdminClient(new AdminSocket(daemon.socket));
    }

    private void store(String rules) {
        admin().call("test-vm", "admin.vm.firewall.Set", null, rules).orThrow();
    }

    @Test
    void list_isQubesTable() {
        store("action=accept dsthost=qubes-os.org proto=tcp dstports=443-443\naction=drop proto=icmp icmptype=8\n"
                + "action=accept specialtarget=dns comment=Allow DNS\n");

        assertThat(ok("qvm-firewall", "test-vm")).isEqualTo("""
                NO  ACTION  HOST          PROTOCOL  PORT(S)  SPECIAL TARGET  ICMP TYPE  EXPIRE  COMMENT
                0   accept  qubes-os.org  tcp       443      -               -          -       -
                1   drop    -             icmp      -        -               8          -       -
                2   accept  -             -         -        dns             -          -       Allow DNS
                """);
        assertThat(ok("qvm-firewall", "test-vm", "list")).isEqualTo(ok("qvm-firewall", "test-vm"));
    }

    @Test
    void raw_printsTheClientsLines() {
        store("action=accept dsthost=qubes-os.org\naction=drop proto=icmp\n");

        assertThat(ok("qvm-firewall", "test-vm", "--raw", "list"))
                .isEqualTo("action=accept dsthost=qubes-os.org\naction=drop proto=icmp\n");
        assertThat(ok("qvm-firewall", "test-vm", "--raw", "--reload", "list"))
                .isEqualTo("action=accept dsthost=qubes-os.org\naction=drop proto=icmp\n");
    }

    @Test
    void addBefore_delByNumberOrRule_reset_sendTheRulesAsQubesToolDoes() {
        store("action=accept dsthost=qubes-os.org\naction=drop proto=icmp\n");

        ok("qvm-firewall", "test-vm", "add", "--before", "1", "accept", "192.168.0.0/24", "comment=Allow LAN");
        assertThat(ok("qvm-firewall", "test-vm", "--raw")).isEqualTo("action=accept dsthost=qubes-os.org\n"
                + "action=accept dst4=192.168.0.0/24 comment=Allow LAN\naction=drop proto=icmp\n");
        ok("qvm-firewall", "test-vm", "del", "--rule-no", "1");
        ok("qvm-firewall", "test-vm", "del", "drop", "proto=icmp");
        assertThat(ok("qvm-firewall", "test-vm", "--raw")).isEqualTo("action=accept dsthost=qubes-os.org\n");
        ok("qvm-firewall", "test-vm", "reset");
        assertThat(admin().call("test-vm", "admin.vm.firewall.Get", null, null).text()).isEqualTo("action=accept\n");
    }

    @Test
    void expireRelative_isSecondsFromNow_andListedAsTheTimeLeft() {
        long before = Instant.now().getEpochSecond();
        ok("qvm-firewall", "test-vm", "add", "accept", "qubes-os.org", "tcp", "443", "expire=+3600");
        long after = Instant.now().getEpochSecond();

        String raw = ok("qvm-firewall", "test-vm", "--raw");
        long expire = Long.parseLong(raw.replaceAll("(?s).*expire=([0-9]+).*", "$1"));
        assertThat(expire).isBetween(before + 3600, after + 3600);
        assertThat(ok("qvm-firewall", "test-vm").lines().toList().getLast())
                .matches("1   accept  qubes-os\\.org  tcp       443      -               -          \\+3(600|599|598)s"
                        + "  -");
    }

    @Test
    void formatJson_listsEachRuleWithItsNumber() {
        store("action=accept dsthost=qubes-os.org proto=tcp dstports=443-443\n");

        assertThat(ok("qvm-firewall", "test-vm", "--format", "json")).isEqualTo("[{\"no\":0,\"action\":\"accept\","
                + "\"proto\":\"tcp\",\"dsthost\":\"qubes-os.org\",\"dstports\":\"443\",\"icmptype\":null,"
                + "\"specialtarget\":null,\"expire\":null,\"comment\":null}]\n");
    }

    @Test
    void help_namesTheSubcommandsAndTheRuleSyntax() {
        String help = ok("qvm-firewall", "--help");

        assertThat(help).contains("add", "del", "list", "reset", "--raw", "--reload",
                "ACTION [DSTHOST [PROTO [DSTPORTS | ICMPTYPE]]]", "specialtarget", "expire");
        assertThat(ok("qvm-firewall", "test-vm", "add", "--help")).contains("--before");
        assertThat(ok("qvm-firewall", "test-vm", "del", "--help")).contains("--rule-no");
    }

    @Test
    void misspelledRule_isAUsageError_andAValueTheClientRefuses_aFailure() {
        CliRun usage = daemon.run("qvm-firewall", "test-vm", "add", "accept", "dsthost=");
        CliRun failure = daemon.run("qvm-firewall", "test-vm", "add", "accept", "10.0.0.0/33");

        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).matches("(?s)usage: qvm-firewall add .*\nqvm-firewall add: error: invalid rule "
                + "description: dsthost=\n");
        assertThat(failure.code()).isEqualTo(1);
        assertThat(failure.err()).isEqualTo("Error: netmask for IPv4 must be <= 32\n");
        assertThat(ok("qvm-firewall", "test-vm", "--raw")).isEqualTo("action=accept\n");
    }
}
