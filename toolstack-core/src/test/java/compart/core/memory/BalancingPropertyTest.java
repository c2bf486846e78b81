package compart.core.memory;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The balancing's promises over random hosts: no target above a domain's maximum, the targets never add up to
 * more than the host has, dom0 keeps its preference (its use with the cache margin and its boost), a silent or
 * stuck domain is never touched, the balloon frees what it was asked.
 */
class BalancingPropertyTest {
    private static final long MB = 1024 * 1024;
    private final Balancing balancing = new Balancing(MemorySettings.QUBES_DEFAULTS);

    /** A host: its free memory and its domains, dom0 first. */
    record Host(long free, List<DomainMemory> domains) {
        List<MemoryTarget> balance(Balancing b) {
            return b.balance(free, domains);
        }
    }

    @Provide
    Arbitrary<DomainMemory> qube() {
        return Combinators.combine(Arbitraries.longs().between(1, 16384), Arbitraries.longs().between(0, 100),
                        Arbitraries.longs().between(0, 20000), Arbitraries.integers().between(0, 9))
                .as((maxMb, actualPct, usedMb, kind) -> {
                    long max = maxMb * MB;
                    long actual = max * actualPct / 100;
                    // 0: silent (no meminfo-writer), 1: stuck donor, else a reporting qube (used may exceed max)
                    var used = kind == 0 ? OptionalLong.empty() : OptionalLong.of(usedMb * MB);
                    return new DomainMemory(1, used, max, actual, kind == 1);
                });
    }

    @Provide
    Arbitrary<Host> host() {
        var dom0 = Combinators.combine(Arbitraries.longs().between(400, 8192), Arbitraries.longs().between(0, 100),
                Arbitraries.longs().between(0, 8000)).as((maxMb, actualPct, usedMb) ->
                new DomainMemory(0, OptionalLong.of(usedMb * MB), maxMb * MB, maxMb * MB * actualPct / 100, false));
        return Combinators.combine(Arbitraries.longs().between(-200, 20000), dom0, qube().list().ofMaxSize(12))
                .as((freeMb, d0, qubes) -> {
                    var all = new ArrayList<DomainMemory>();
                    all.add(d0);
                    int id = 1;
                    for (var q : qubes) {
                        all.add(new DomainMemory(id++, q.used(), q.max(), q.actual(), q.noProgress()));
                    }
                    return new Host(freeMb * MB, all);
                });
    }

    private static Map<Integer, DomainMemory> byId(Host h) {
        var m = new HashMap<Integer, DomainMemory>();
        h.domains().forEach(d -> m.put(d.domid(), d));
        return m;
    }

    @Property(tries = 2000)
    void balanceNeverExceedsAMaximumNorTheHostAndLeavesSilentAndStuckQubesAlone(@ForAll("host") Host h) {
        var domains = byId(h);
        var targets = h.balance(balancing);
        var seen = new HashSet<Integer>();
        long before = 0;
        long after = 0;
        for (var t : targets) {
            var d = domains.get(t.domid());
            assertThat(seen.add(t.domid())).as("one target per domain in %s", targets).isTrue();
            assertThat(d.balanced()).as("domain %d silent or stuck got a target", t.domid()).isTrue();
            assertThat(t.bytes()).as("target of %s", d).isBetween(0L, d.max());
            before += d.actual();
            after += t.bytes();
        }
        // what the targeted domains end up with is at most what they have plus what is free
        assertThat(after).as("targets %s on %s", targets, h).isLessThanOrEqualTo(before + Math.max(0, h.free()));
    }

    @Property(tries = 2000)
    void dom0KeepsItsPreferenceOrWhatItHas(@ForAll("host") Host h) {
        var dom0 = h.domains().getFirst();
        long reserve = (long) (0.999 * Math.min(balancing.prefMem(dom0), dom0.actual()));
        h.balance(balancing).stream().filter(t -> t.domid() == 0)
                .forEach(t -> assertThat(t.bytes()).as("dom0 %s", dom0).isGreaterThanOrEqualTo(reserve));
    }

    @Property(tries = 2000)
    void theBalloonFreesAtLeastTheRequestFromReportingDonorsOnlyAndNoneBelowItsPreferenceLessFivePercent(
            @ForAll("host") Host h, @ForAll("request") long request) {
        var domains = byId(h);
        var targets = balancing.balloon(request, h.domains());
        long released = 0;
        for (var t : targets) {
            var d = domains.get(t.domid());
            assertThat(d.balanced()).isTrue();
            long surplus = d.actual() - balancing.prefMem(d);
            assertThat(surplus).isPositive();
            assertThat(t.bytes()).isLessThan(d.actual())
                    .isGreaterThanOrEqualTo(balancing.prefMem(d) - surplus / 20 - 1);
            released += d.actual() - t.bytes();
        }
        if (!targets.isEmpty()) {
            assertThat(released).isGreaterThanOrEqualTo(request - targets.size());
        }
    }

    @Provide
    Arbitrary<Long> request() {
        return Arbitraries.longs().between(1, 8192).map(mb -> mb * MB);
    }
}
