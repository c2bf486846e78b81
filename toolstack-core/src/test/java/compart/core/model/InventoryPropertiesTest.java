package compart.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import compart.errors.CompartException;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Properties of validation: whatever is asked, the result is consistent or refused and nothing changes. */
class InventoryPropertiesTest {

    @Provide
    Arbitrary<String> propertyNames() {
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(9, Arbitraries.of(PropertyCatalog.allNames())),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMaxLength(10)));
    }

    @Provide
    Arbitrary<String> values() {
        return Arbitraries.oneOf(
                Arbitraries.of("", "True", "false", "0", "1", "-1", "400", "99999999999999999999", "pvh", "HVM",
                        "sys-net", "sys-firewall", "fedora", "work", "dom0", "nosuch", "red", "9", "../x",
                        "00:16:3e:00:00:01", "10.1.2.3", "us++"),
                Arbitraries.strings().ascii().ofMaxLength(40));
    }

    @Provide
    Arbitrary<String> qubes() {
        return Arbitraries.of("dom0", "fedora", "sys-net", "sys-firewall", "work", "absent");
    }

    @Property(tries = 600)
    void everySet_leavesAConsistentInventory_orIsRefusedWithACompartException(
            @ForAll("qubes") String qube, @ForAll("propertyNames") String prop, @ForAll("values") String value) {
        var inv = InventoryTest.typical();
        Inventory after;
        try {
            after = inv.withProperty(qube, prop, value);
        } catch (CompartException refused) {
            assertThat(refused.getMessage()).isNotBlank();
            return;
        }
        assertThat(after.violations()).isEmpty();
        // every property of every qube can still be read
        for (var q : after.qubes().values()) {
            for (var p : after.propertyDefs(q).keySet()) {
                after.property(q, p);
            }
        }
    }

    @Property(tries = 300)
    void sequencesOfChanges_neverProduceANetvmLoop(
            @ForAll("sequences") List<String[]> steps) {
        var inv = InventoryTest.typical();
        for (var s : steps) {
            try {
                inv = s[0].equals("reset") ? inv.withPropertyReset(s[1], "netvm")
                        : s[0].equals("global") ? inv.withGlobalProperty("default_netvm", s[2])
                        : inv.withProperty(s[1], s[0], s[2]);
            } catch (CompartException refused) {
                // refused: inv unchanged
            }
            assertThat(inv.violations()).isEmpty();
            for (var q : inv.qubes().values()) {
                assertThat(inv.netvmChain(q)).extracting(Qube::name).doesNotContain(q.name()).doesNotHaveDuplicates();
            }
        }
    }

    @Provide
    Arbitrary<List<String[]>> sequences() {
        var q = Arbitraries.of("sys-net", "sys-firewall", "work", "fedora");
        var op = Arbitraries.of("netvm", "provides_network", "reset", "global");
        var v = Arbitraries.of("", "sys-net", "sys-firewall", "work", "fedora", "True", "False");
        return net.jqwik.api.Combinators.combine(op, q, v).as((a, b, c) -> new String[] {a, b, c}).list()
                .ofMaxSize(12);
    }

    @Property(tries = 200)
    void qubeNames_acceptedOnlyInQubesSyntax(@ForAll("names") String name) {
        boolean ok;
        try {
            Names.qube(name);
            ok = true;
        } catch (CompartException e) {
            ok = false;
        }
        boolean expected = name.matches("[a-zA-Z][a-zA-Z0-9_.-]{0,30}") && !name.endsWith("-dm")
                && !List.of("none", "default", "Domain-0").contains(name);
        assertThat(ok).as(name).isEqualTo(expected);
    }

    @Provide
    Arbitrary<String> names() {
        return Arbitraries.oneOf(Arbitraries.strings().withChars("aZ09_.-+ /ä").ofMinLength(0).ofMaxLength(35),
                Arbitraries.of("none", "x-dm", "Domain-0", "a".repeat(31), "a".repeat(32)));
    }

    @Property(tries = 100)
    void createdQubes_getDistinctQidsAndAddresses(@ForAll("counts") int n) {
        var inv = InventoryTest.typical();
        var random = new Random(n);
        for (int i = 0; i < n; i++) {
            inv = inv.withNewQube(QubeClass.AppVM, "q" + i, "red", Optional.empty(), random);
        }
        var all = inv;
        var ips = all.qubes().values().stream().filter(q -> q.klass() != QubeClass.AdminVM).map(q -> all.value(q, "ip")).flatMap(Optional::stream)
                .toList();
        assertThat(ips).doesNotHaveDuplicates();
        assertThat(all.qubes().values().stream().map(Qube::qid).toList()).doesNotHaveDuplicates();
    }

    @Provide
    Arbitrary<Integer> counts() {
        return Arbitraries.integers().between(0, 300);
    }
}
