package compart.policy.parse;

import static org.assertj.core.api.Assertions.assertThat;

import compart.policy.Policy;
import compart.policy.Request;
import compart.policy.Resolution;
import compart.policy.SystemInfo;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random and mutated policy text never makes the parser throw: out come rules or diagnostics, and a policy
 * with diagnostics denies.
 */
class ParserFuzzTest {

    static final String SAMPLE = """
            # a realistic file
            qubes.Filecopy  *  @anyvm  @anyvm  ask
            qubes.OpenURL   +x work    @dispvm allow target=@dispvm:fedora-dvm user=root notify=yes autostart=no
            qubes.Gpg       *  @tag:a  @default allow target=vault
            *               *  @anyvm  @anyvm  deny notify=no
            !include include/none
            !include-service a.B * include/none
            !include-dir nowhere
            !compat-4.0
            qubes.X * @dispvm:@tag:x uuid:1234 ask default_target=@adminvm target=dom0
            """;

    static final List<String> PIECES = List.of("*", "+", "@", "@anyvm", "@adminvm", "@default", "@dispvm",
            "@dispvm:", "@dispvm:@tag:", "@tag:", "@type:", "uuid:", "=", "target=", "default_target=", "user=",
            "notify=", "autostart=", "yes", "no", "allow", "deny", "ask", "!include", "!include-dir",
            "!include-service", "!compat-4.0", "#", " ", "\t", "\n", "\r", "\r\n", ",", "$", "qubes.X", "+arg",
            "work", "\u0000", "\u00a0", "\u2028", "\ud800", "é", "..", "/", "\\");

    @Provide
    Arbitrary<String> randomText() {
        return Arbitraries.oneOf(
                Arbitraries.strings().all().ofMaxLength(300),
                Arbitraries.of(PIECES).list().ofMaxSize(60).map(l -> String.join("", l)),
                Arbitraries.of(PIECES).list().ofMaxSize(40).map(l -> String.join(" ", l)));
    }

    @Provide
    Arbitrary<String> mutatedSample() {
        Arbitrary<Integer> pos = Arbitraries.integers().between(0, SAMPLE.length());
        return Arbitraries.of(PIECES).list().ofMinSize(1).ofMaxSize(8)
                .flatMap(ins -> pos.list().ofSize(ins.size()).map(ps -> {
                    StringBuilder b = new StringBuilder(SAMPLE);
                    for (int i = 0; i < ins.size(); i++) {
                        int p = Math.min(ps.get(i), b.length());
                        if (i % 3 == 2 && p < b.length()) b.deleteCharAt(p);
                        else b.insert(p, ins.get(i));
                    }
                    return b.toString();
                }));
    }

    static void onlyRulesOrDiagnostics(String text) {
        LoadedPolicy p = PolicyLoader.loadText(text, "fuzz.policy", Path.of("/nonexistent-base"));
        assertThat(p.rules()).doesNotContainNull();
        p.diagnostics().forEach(d -> assertThat(d.toString()).startsWith("fuzz.policy"));
        Policy policy = Policy.parse(text, "fuzz.policy", Path.of("/nonexistent-base"));
        Resolution r = policy.evaluate(Request.of("qubes.X", "work", "vault"), SystemInfo.of(List.of()));
        if (!policy.valid()) assertThat(r).isInstanceOf(Resolution.Deny.class);
    }

    @Property(tries = 1500)
    void randomText_givesOnlyRulesOrDiagnostics(@ForAll("randomText") String text) {
        onlyRulesOrDiagnostics(text);
    }

    @Property(tries = 1500)
    void mutatedRealisticText_givesOnlyRulesOrDiagnostics(@ForAll("mutatedSample") String text) {
        onlyRulesOrDiagnostics(text);
    }
}
