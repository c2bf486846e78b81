package compart.cli.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.math.BigInteger;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The rule syntax of qvm-firewall, with the inputs and results of Qubes' own client tests
 * ({@code qubesadmin/tests/firewall.py} and {@code tests/tools/qvm_firewall.py}): what is valid, what is refused, and
 * the canonical form a rule is sent and printed in.
 */
class FirewallRuleTest {
    private static final long NOW = Instant.parse("2026-12-07T18:00:00.250Z").toEpochMilli();

    /** Misspelled words become this, so a test can tell them from values refused later (exit code 1). */
    private static final class Misspelled extends RuntimeException {
        Misspelled(String message) {
            super(message);
        }
    }

    private static FirewallRule words(String... words) {
        return RuleWords.rule(List.of(words), NOW, Misspelled::new);
    }

    private static FirewallRule named(String... keyValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put(keyValues[i], keyValues[i + 1]);
        }
        return FirewallRule.of(m);
    }

    private static void assertRefused(Runnable r) {
        assertThatThrownBy(r::run).isInstanceOf(CompartException.class)
                .extracting(e -> ((CompartException) e).kind()).isEqualTo(ErrorKind.INVALID_VALUE);
    }

    // ---- hosts (TC_02_DstHost)

    @ParameterizedTest
    @CsvSource({
        "qubes-os.org, dsthost, qubes-os.org, dsthost=qubes-os.org",
        "127.0.0.1, dst4, 127.0.0.1/32, dst4=127.0.0.1/32",
        "127.0.0.0/8, dst4, 127.0.0.0/8, dst4=127.0.0.0/8",
        "2001:abcd:efab::3, dst6, 2001:abcd:efab::3/128, dst6=2001:abcd:efab::3/128",
        "2001:abcd:efab::/64, dst6, 2001:abcd:efab::/64, dst6=2001:abcd:efab::/64",
        "::ffff:10.0.0.1, dst6, ::ffff:10.0.0.1/128, dst6=::ffff:10.0.0.1/128",
        "1.2.3, dsthost, 1.2.3, dsthost=1.2.3",
        "01.2.3.4, dsthost, 01.2.3.4, dsthost=01.2.3.4",
        "::, dst6, ::/128, dst6=::/128",
        "1:2:3:4:5:6:7::, dst6, 1:2:3:4:5:6:7::/128, dst6=1:2:3:4:5:6:7::/128",
        "::1.2.3.4, dst6, ::1.2.3.4/128, dst6=::1.2.3.4/128",
        "1:2:3:4:5:6:1.2.3.4, dst6, 1:2:3:4:5:6:1.2.3.4/128, dst6=1:2:3:4:5:6:1.2.3.4/128",
        "'10.0.0.0/ 8', dst4, '10.0.0.0/ 8', 'dst4=10.0.0.0/ 8'",
    })
    void host_validOnes_haveTheClientsKeyAndText(String value, String key, String text, String element) {
        FirewallRule.Host host = FirewallRule.host(value);

        assertThat(host.key()).isEqualTo(key);
        assertThat(host.text()).isEqualTo(text);
        assertThat(host.element()).isEqualTo(element);
    }

    @Test
    void host_prefixLengths_areTheOnesGivenOrTheFullAddress() {
        assertThat(FirewallRule.host("127.0.0.1").prefix()).isEqualTo(BigInteger.valueOf(32));
        assertThat(FirewallRule.host("127.0.0.0/8").prefix()).isEqualTo(BigInteger.valueOf(8));
        assertThat(FirewallRule.host("2001:abcd:efab::3").prefix()).isEqualTo(BigInteger.valueOf(128));
        assertThat(FirewallRule.host("2001:abcd:efab::/64").prefix()).isEqualTo(BigInteger.valueOf(64));
    }

    @Test
    void host_withPrefixZero_matchesAnyHost_andIsLeftOutOfTheRule() {
        assertThat(FirewallRule.host("0.0.0.0/0").element()).isNull();
        assertThat(words("drop", "0.0.0.0/0", "tcp", "25").line()).isEqualTo("action=drop proto=tcp dstports=25-25");
        assertThat(words("drop", "0.0.0.0/0").cells(NOW).get(1)).isEqualTo("0.0.0.0/0");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "127.0.0.0/33|netmask for IPv4 must be <= 32",
        "127.0.0.0/-1|netmask must be non-negative",
        "127/8|Invalid IP address: 127",
        "137.327.0.0/16|Invalid IP address: 137.327.0.0",
        "1.2.3.4.5/32|Invalid IP address: 1.2.3.4.5",
        "2001:abcd:efab::3/129|netmask for IPv6 must be <= 128",
        "2001:abcd:efab::3/-1|netmask must be non-negative",
        "2001:abcd:efab0123::3/128|Invalid IP address: 2001:abcd:efab0123::3",
        "2001:abcd:efab:3/128|Invalid IP address: 2001:abcd:efab:3",
        "2001:abcd:efab:a:a:a:a:a:a:3/128|Invalid IP address: 2001:abcd:efab:a:a:a:a:a:a:3",
        "2001:abcd:efgh::3/128|Invalid IP address: 2001:abcd:efgh::3",
        "www  qubes-os.org|Invalid hostname",
        "https://qubes-os.org|Too many /: https://qubes-os.org",
        "1::2:3:4:5:6:7:8|Invalid hostname",
        "1:2:3:4:5:6:7:1.2.3.4|Invalid hostname",
        ":1::2|Invalid hostname",
        "1::2::3|Invalid hostname",
        "1:2:3:4:5:6:7:8:|Invalid hostname",
        "Qubes-OS.org|Invalid hostname",
        "1.2.3.4/8/1|Too many /: 1.2.3.4/8/1",
        "10.0.0.0/x|invalid literal for int() with base 10: 'x'",
    })
    void host_invalidOnes_areRefusedWithTheClientsMessage(String value, String message) {
        assertThatThrownBy(() -> FirewallRule.host(value)).isInstanceOf(CompartException.class)
                .hasMessage(message);
    }

    @Test
    void host_hostPartOfANetwork_isKept_asTheClientKeepsIt() {
        // Qubes' tests mark refusing these as an expected failure: the client accepts them
        assertThat(FirewallRule.host("127.0.0.1/32").element()).isEqualTo("dst4=127.0.0.1/32");
        assertThat(FirewallRule.host("2001:abcd:efab::3/64").element()).isEqualTo("dst6=2001:abcd:efab::3/64");
    }

    // ---- ports (TC_03_DstPorts), ICMP types (TC_04), expire (TC_06)

    @ParameterizedTest
    @CsvSource({"80, 80, 80-80", "80-90, 80-90, 80-90", "080, 80, 80-80", "0-65536, 0-65536, 0-65536",
        "' 80', 80, 80-80", "1_0, 10, 10-10"})
    void ports_showOnePortOrARange_andAreSentAsARange(String value, String shown, String sent) {
        FirewallRule rule = named("action", "accept", "proto", "tcp", "dstports", value);

        assertThat(rule.ports().text()).isEqualTo(shown);
        assertThat(rule.line()).isEqualTo("action=accept proto=tcp dstports=" + sent);
    }

    @ParameterizedTest
    @ValueSource(strings = {"80-90-100", "abcdef", "80 90", "", "100-20", "1000000000000", "1-1000000000000",
        "65537", "-5"})
    void ports_invalidOnes_areRefused(String value) {
        assertRefused(() -> FirewallRule.ports(value));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"80-90-100|80-90-100", "abcdef|invalid literal for int() with base 10: 'abcdef'",
        "100-20|Invalid port range", "1-1000000000000|Ports out of range",
        "-5|invalid literal for int() with base 10: ''"})
    void ports_invalidOnes_haveTheClientsMessage(String value, String message) {
        assertThatThrownBy(() -> FirewallRule.ports(value)).hasMessage(message);
    }

    @Test
    void icmpType_isANumber0to255_keptAsGiven() {
        assertThat(named("action", "accept", "proto", "icmp", "icmptype", "8").line())
                .isEqualTo("action=accept proto=icmp icmptype=8");
        for (String bad : List.of("600", "-1", "abcde", "", "256")) {
            assertRefused(() -> named("action", "accept", "proto", "icmp", "icmptype", bad));
        }
    }

    @Test
    void expire_isANumberOfSeconds_keptAsGiven() {
        assertThat(named("action", "accept", "proto", "icmp", "expire", "1463292452").line())
                .isEqualTo("action=accept proto=icmp expire=1463292452");
        assertRefused(() -> named("action", "accept", "expire", "abcdef"));
        assertRefused(() -> named("action", "accept", "expire", ""));
        assertRefused(() -> named("action", "accept", "expire", "999999999999999"));
    }

    @Test
    void expire_isShownAsSignedSecondsFromNow() {
        long now = Instant.parse("2026-12-07T18:00:00Z").getEpochSecond();

        assertThat(named("action", "accept", "expire", Long.toString(now + 3600)).cells(now * 1000).get(6))
                .isEqualTo("+3600s");
        assertThat(named("action", "accept", "expire", Long.toString(now + 3600)).cells(now * 1000 + 700).get(6))
                .isEqualTo("+3599s");
        assertThat(named("action", "accept", "expire", Long.toString(now - 5)).cells(now * 1000).get(6))
                .isEqualTo("-5s");
    }

    // ---- choices (TC_01_Action, TC_02_Proto, TC_05_SpecialTarget), comments (TC_07)

    @Test
    void choices_acceptTheirValuesOnly() {
        assertThat(named("action", "drop").line()).isEqualTo("action=drop");
        assertThat(named("action", "accept", "proto", "udp").line()).isEqualTo("action=accept proto=udp");
        assertThat(named("action", "accept", "specialtarget", "dns").line())
                .isEqualTo("action=accept specialtarget=dns");
        assertRefused(() -> named("action", "allow"));
        assertRefused(() -> named("action", "accept", "proto", "sctp"));
        assertRefused(() -> named("action", "accept", "specialtarget", "ntp"));
    }

    @Test
    void comment_isFreeText_andComesLast() {
        assertThat(named("comment", "Some comment", "action", "accept", "dsthost", "qubes-os.org").line())
                .isEqualTo("action=accept dsthost=qubes-os.org comment=Some comment");
    }

    // ---- whole rules (TC_10_Rule)

    @Test
    void rule_simpleAndWithExpire_inTheClientsOrder() {
        FirewallRule simple = named("action", "accept", "proto", "icmp");

        assertThat(simple.line()).isEqualTo("action=accept proto=icmp");
        assertThat(simple.host()).isNull();
        assertThat(simple.ports()).isNull();
        assertThat(simple.icmptype()).isNull();
        assertThat(simple.comment()).isNull();
        assertThat(simple.expire()).isNull();
        assertThat(named("action", "accept", "proto", "icmp", "expire", "1463292452").line())
                .isEqualTo("action=accept proto=icmp expire=1463292452");
        assertThat(named("action", "accept", "proto", "tcp", "dstports", "80").ports().text()).isEqualTo("80");
    }

    @Test
    void rule_refusesMissingActionAndElementsTheProtocolExcludes() {
        assertThatThrownBy(() -> named("proto", "icmp")).hasMessage("missing action=");
        assertThatThrownBy(() -> named("action", "accept", "proto", "icmp", "dstports", "80"))
                .hasMessage("dstports valid only for 'tcp' and 'udp' protocols");
        assertThatThrownBy(() -> named("action", "accept", "dstports", "80"))
                .hasMessage("dstports valid only for 'tcp' and 'udp' protocols");
        assertThatThrownBy(() -> named("action", "accept", "proto", "tcp", "icmptype", "8"))
                .hasMessage("icmptype valid only for 'icmp' protocol");
        assertThatThrownBy(() -> named("action", "accept", "icmptype", "8"))
                .hasMessage("icmptype valid only for 'icmp' protocol");
        assertThatThrownBy(() -> named("action", "accept", "dstname", "x")).hasMessageStartingWith(
                "Unknown rule elements");
    }

    @Test
    void parse_readsTheDaemonsLines_andWritesTheClientsForm() {
        FirewallRule rule = FirewallRule.parse("action=accept dst4=192.168.0.0/24 proto=tcp dstports=443");

        assertThat(rule.host().text()).isEqualTo("192.168.0.0/24");
        assertThat(rule.proto()).isEqualTo("tcp");
        assertThat(rule.ports().text()).isEqualTo("443");
        assertThat(rule.expire()).isNull();
        assertThat(rule.comment()).isNull();
        assertThat(rule.line()).isEqualTo("action=accept proto=tcp dst4=192.168.0.0/24 dstports=443-443");

        FirewallRule commented = FirewallRule.parse("action=accept dsthost=qubes-os.org comment=Some comment");
        assertThat(commented.host().text()).isEqualTo("qubes-os.org");
        assertThat(commented.proto()).isNull();
        assertThat(commented.comment()).isEqualTo("Some comment");
        assertThat(FirewallRule.parse("action=accept expire=1463292452 dst4=1.2.3.4/32 proto=icmp icmptype=8").line())
                .isEqualTo("action=accept proto=icmp dst4=1.2.3.4/32 icmptype=8 expire=1463292452");
    }

    @Test
    void cells_areTheTablesColumns_withDashesForWhatIsNotNamed() {
        assertThat(FirewallRule.parse("action=accept dsthost=qubes-os.org proto=tcp dstports=443-443").cells(NOW))
                .containsExactly("accept", "qubes-os.org", "tcp", "443", "-", "-", "-", "-");
        assertThat(FirewallRule.parse("action=drop proto=icmp icmptype=8").cells(NOW))
                .containsExactly("drop", "-", "icmp", "-", "-", "8", "-", "-");
        assertThat(FirewallRule.parse("action=accept specialtarget=dns comment=Allow DNS").cells(NOW))
                .containsExactly("accept", "-", "-", "-", "dns", "-", "-", "Allow DNS");
    }

    // ---- command-line words (TC_00_RuleAction of tests/tools/qvm_firewall.py)

    @Test
    void words_named() {
        assertThat(words("dsthost=127.0.0.1", "action=accept")).isEqualTo(named("action", "accept",
                "dsthost", "127.0.0.1/32"));
    }

    @Test
    void words_positional_tcpTakesPorts_icmpTakesAType() {
        assertThat(words("accept", "127.0.0.1", "tcp", "80").line())
                .isEqualTo("action=accept proto=tcp dst4=127.0.0.1/32 dstports=80-80");
        assertThat(words("accept", "127.0.0.1", "icmp", "8").line())
                .isEqualTo("action=accept proto=icmp dst4=127.0.0.1/32 icmptype=8");
    }

    @Test
    void words_mixed() {
        assertThat(words("dsthost=127.0.0.1", "accept", "dstports=443", "tcp"))
                .isEqualTo(named("action", "accept", "dsthost", "127.0.0.1/32", "proto", "tcp", "dstports", "443"));
        assertThat(words("accept", "192.168.0.0/24", "comment=Allow LAN").line())
                .isEqualTo("action=accept dst4=192.168.0.0/24 comment=Allow LAN");
    }

    @Test
    void words_expireAbsoluteAndRelative() {
        assertThat(words("dsthost=127.0.0.1", "action=accept", "expire=1525054180").line())
                .isEqualTo("action=accept dst4=127.0.0.1/32 expire=1525054180");
        assertThat(words("dsthost=127.0.0.1", "action=accept", "expire=+100").expire())
                .isEqualTo(Long.toString(NOW / 1000 + 100));
    }

    @ParameterizedTest
    @ValueSource(strings = {"dsthost", "dst4", "dst6"})
    void words_dst4AndDst6_meanDsthost(String key) {
        assertThat(words(key + "=127.0.0.1", "accept").line()).isEqualTo("action=accept dst4=127.0.0.1/32");
    }

    @Test
    void words_emptyValues_areMisspelled() {
        assertThatThrownBy(() -> words("dsthost=", "action=accept")).isInstanceOf(Misspelled.class)
                .hasMessage("invalid rule description: dsthost=");
        assertThatThrownBy(() -> words("dsthost=127.0.0.1", "dstports=", "action=accept"))
                .isInstanceOf(Misspelled.class).hasMessage("invalid rule description: dstports=");
        assertThatThrownBy(() -> words("dsthost=127.0.0.1", "icmptype=", "action=accept"))
                .isInstanceOf(Misspelled.class).hasMessage("invalid rule description: icmptype=");
    }

    @Test
    void words_unknownKeysAndSecondEquals_areMisspelled() {
        assertThatThrownBy(() -> words("accept", "foo=bar")).isInstanceOf(Misspelled.class)
                .hasMessage("Invalid rule element: foo=bar");
        assertThatThrownBy(() -> words("accept", "comment=a=b")).isInstanceOf(Misspelled.class)
                .hasMessage("invalid rule description: comment=a=b");
    }

    @Test
    void words_thatTheToolFailsOnAfterReading_areInvalidValues() {
        assertRefused(() -> words("accept", "1.2.3.4", "tcp", "80", "extra"));
        assertRefused(() -> words("accept", "icmptype=8", "proto=tcp"));
        assertRefused(() -> words("accept", "1.2.3.4", "tcp", "99999"));
        assertRefused(() -> words("dsthost=1.2.3.4"));
        assertRefused(() -> words("accept", "expire=+soon"));
    }

    @Test
    void insertionPoint_isPythonsListInsert() {
        assertThat(QvmFirewall.insertionPoint(0, 3)).isZero();
        assertThat(QvmFirewall.insertionPoint(99, 3)).isEqualTo(3);
        assertThat(QvmFirewall.insertionPoint(-1, 3)).isEqualTo(2);
        assertThat(QvmFirewall.insertionPoint(-9, 3)).isZero();
    }
}
