package compart.core.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Firewall rules in any element order and spelling Qubes accepts parse to one canonical form, which is stable. */
class FirewallRulesProperties {
    @Provide
    Arbitrary<List<String>> elements() {
        var action = Arbitraries.of("action=accept", "action=drop");
        var dst = Arbitraries.of("", "dsthost=10.0.0.1", "dst4=10.0.0.0/8", "dsthost=example.org", "dstname=a-b.c_d",
                "dst6=fd00::1", "dsthost=fd00::/8", "dst4=192.168.1.1/32");
        var protoPorts = Arbitraries.of("", "proto=tcp", "proto=udp dstports=53", "proto=tcp dstports=1-1024",
                "proto=icmp", "proto=icmp icmptype=0", "specialtarget=dns", "specialtarget=dns proto=udp");
        var expire = Arbitraries.of("", "expire=2099450306");
        return Combinators.combine(action, dst, protoPorts, expire, Arbitraries.randoms()).as((a, d, p, e, rnd) -> {
            var all = new ArrayList<String>();
            for (String part : List.of(a, d, p, e)) {
                if (!part.isEmpty()) {
                    all.addAll(List.of(part.split(" ")));
                }
            }
            Collections.shuffle(all, rnd);
            return all;
        });
    }

    @Property
    void anyElementOrder_parsesToTheSameStableCanonicalRule(@ForAll("elements") List<String> elements) {
        String line = String.join(" ", elements);
        var sorted = new ArrayList<>(elements);
        Collections.sort(sorted);

        String canonical = FirewallRules.parse(line).getFirst();

        assertThat(canonical).startsWith("action=");
        assertThat(FirewallRules.parse(canonical)).containsExactly(canonical);
        assertThat(FirewallRules.parse(String.join(" ", sorted))).containsExactly(canonical);
        assertThat(FirewallRules.parse(line + " comment=x y")).containsExactly(canonical + " comment=x y");
    }

    @Property
    void aRepeatedElement_isRefused(@ForAll("elements") List<String> elements) {
        String line = String.join(" ", elements) + " " + elements.getLast();

        assertThatThrownBy(() -> FirewallRules.parse(line)).isInstanceOf(CompartException.class);
    }
}
