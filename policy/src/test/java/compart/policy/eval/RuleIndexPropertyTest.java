package compart.policy.eval;

import static org.assertj.core.api.Assertions.assertThat;

import compart.policy.QubeInfo;
import compart.policy.Request;
import compart.policy.SystemInfo;
import compart.policy.model.Rule;
import compart.policy.parse.LoadedPolicy;
import compart.policy.parse.PolicyLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The index never changes a decision: its first match is always the first match of a plain scan. */
class RuleIndexPropertyTest {

    static final SystemInfo SYS = SystemInfo.of(List.of(
            new QubeInfo("work", "AppVM", Set.of("t1"), false, "dvm", "Running", "u-work", false, null, null, null),
            new QubeInfo("vault", "AppVM", Set.of("t2"), false, null, "Halted", "u-vault", false, null, null, null),
            new QubeInfo("dvm", "AppVM", Set.of("t1"), true, "dvm", "Halted", "u-dvm", false, null, null, null),
            new QubeInfo("tpl", "TemplateVM", Set.of(), false, null, "Halted", "u-tpl", false, null, null, null)));

    static final List<String> SERVICES = List.of("qubes.A", "qubes.B", "*");
    static final List<String> ARGS = List.of("+", "+x", "*");
    static final List<String> SOURCES = List.of("work", "vault", "dvm", "@anyvm", "*", "@adminvm", "dom0",
            "uuid:u-work", "@tag:t1", "@type:TemplateVM", "@dispvm:dvm", "nonexist");
    static final List<String> TARGETS = List.of("work", "vault", "dvm", "tpl", "@anyvm", "*", "@adminvm", "dom0",
            "uuid:u-vault", "@tag:t2", "@type:AppVM", "@dispvm", "@dispvm:dvm", "@dispvm:@tag:t1", "@default",
            "uuid:00000000-0000-0000-0000-000000000000");
    static final List<String> REQUEST_TARGETS = List.of("work", "vault", "dvm", "tpl", "dom0", "@adminvm",
            "@default", "@dispvm", "@dispvm:dvm", "uuid:u-vault", "uuid:u-work", "nonexist");
    static final List<String> CALLERS = List.of("work", "vault", "dvm", "tpl", "dom0", "uuid:u-work", "nonexist");

    @Provide
    Arbitrary<String> ruleLine() {
        Arbitrary<String> svc = Arbitraries.of(SERVICES);
        return Combinators.combine(svc, Arbitraries.of(ARGS), Arbitraries.of(SOURCES), Arbitraries.of(TARGETS),
                        Arbitraries.of("allow target=work", "deny", "ask", "allow"))
                .as((s, a, src, t, act) -> s + " " + (s.equals("*") ? "*" : a) + " " + src + " " + t + " " + act);
    }

    @Provide
    Arbitrary<Request> request() {
        return Combinators.combine(Arbitraries.of("qubes.A", "qubes.B", "qubes.C"), Arbitraries.of("+", "+x", "+y"),
                Arbitraries.of(CALLERS), Arbitraries.of(REQUEST_TARGETS))
                .as(Request::new);
    }

    @Property(tries = 300)
    void indexedFirstMatch_equalsPlainScan(@ForAll("rules") List<String> lines,
                                           @ForAll("requests") List<Request> requests) {
        LoadedPolicy loaded = PolicyLoader.loadText(String.join("\n", lines), "p", Path.of("."));
        List<Rule> rules = loaded.rules();
        Evaluator e = new Evaluator(rules);
        for (Request r : requests) {
            assertThat(e.firstMatchByIndex(r, SYS)).as("%s", r).isEqualTo(e.firstMatchByScan(r, SYS));
        }
    }

    @Provide
    Arbitrary<List<String>> rules() {
        return ruleLine().list().ofMinSize(0).ofMaxSize(60);
    }

    @Provide
    Arbitrary<List<Request>> requests() {
        return request().list().ofMinSize(1).ofMaxSize(20);
    }
}
