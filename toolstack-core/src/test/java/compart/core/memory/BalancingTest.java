package compart.core.memory;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * The balancing against the figures of Qubes' own qmemman tests ({@code qubes/tests/qmemman.py} in
 * qubes-core-admin): the same domains, the same requests, the same targets to the byte.
 */
class BalancingTest {
    private static final long MB = 1024 * 1024;
    private final Balancing balancing = new Balancing(MemorySettings.QUBES_DEFAULTS);

    private static DomainMemory dom(int domid, double usedMb, double maxMb, double actualMb) {
        return new DomainMemory(domid, OptionalLong.of((long) (usedMb * MB)), (long) (maxMb * MB),
                (long) (actualMb * MB), false);
    }

    private static DomainMemory silent(int domid, double maxMb, double actualMb) {
        return new DomainMemory(domid, OptionalLong.empty(), (long) (maxMb * MB), (long) (actualMb * MB), false);
    }

    @Test
    void dom0PrefersItsUseTimesTheCacheMarginPlusItsBoostUpToItsMaximum() {
        assertThat(balancing.prefMem(dom(0, 1024, 4096, 0))).isEqualTo((long) (1681.2 * MB));
        assertThat(balancing.prefMem(dom(0, 5000, 4096, 0))).isEqualTo(4096 * MB);
    }

    @Test
    void aQubePrefersItsUseTimesTheCacheMarginUpToItsMaximum() {
        assertThat(balancing.prefMem(dom(10, 1024, 4096, 0))).isEqualTo((long) (1331.2 * MB));
        assertThat(balancing.prefMem(dom(10, 5000, 4096, 0))).isEqualTo(4096 * MB);
    }

    @Test
    void aQubeNeverPrefersLessThanVmMinMem() {
        assertThat(balancing.prefMem(dom(10, 10, 4096, 0))).isEqualTo(200 * MB);
    }

    @Test
    void neededMemoryIsThePreferenceLessWhatTheQubeHas() {
        assertThat(balancing.neededMem(dom(10, 1024, 4096, 1024))).isEqualTo((long) (307.2 * MB));
        assertThat(balancing.neededMem(dom(10, 1024, 4096, 2024))).isEqualTo((long) (-692.800001 * MB));
    }

    private static List<DomainMemory> balloonDomains(double used1Mb) {
        return List.of(dom(0, 1024, 4096, 1736), dom(1, used1Mb, 4096, 1536), dom(2, 4096, 4096, 4096),
                silent(3, 4096, 4096));
    }

    @Test
    void balloonRefusesWhenTheDonorsTogetherCannotFreeTheRequest() {
        assertThat(balancing.balloon(400 * MB, balloonDomains(1024))).isEmpty();
    }

    @Test
    void balloonTakesFromEachDonorInProportionToItsSurplusWithQubesTargets() {
        var domains = balloonDomains(512);
        var result = balancing.balloon(400 * MB, domains);
        assertThat(result).containsExactly(new MemoryTarget(0, 1794242737L), new MemoryTarget(1, 1196296014L));
        long released = result.stream().mapToLong(t -> domains.get(t.domid()).actual() - t.bytes()).sum();
        assertThat(released).isGreaterThan(400 * MB).isLessThan(421 * MB);
    }

    private static List<DomainMemory> sixDomains(double actual0Mb) {
        return List.of(dom(0, 1024, 4096, actual0Mb), dom(1, 1024, 4096, 1536), dom(2, 4096, 4096, 4096),
                silent(3, 4096, 4096), dom(4, 1536, 4096, 1536), dom(5, 512, 1024, 768));
    }

    @Test
    void withEnoughMemoryEachGetsItsPreferenceAndAProportionalShareWithQubesTargets() {
        var domains = sixDomains(1736);
        long totalPref = domains.stream().filter(DomainMemory::balanced).mapToLong(balancing::prefMem).sum();
        var result = balancing.whenEnough(domains, totalPref, 4096 * MB);
        assertThat(result).containsExactly(new MemoryTarget(0, 3068708976L), new MemoryTarget(1, 2548378128L),
                new MemoryTarget(2, 4294967296L), new MemoryTarget(4, 3537898734L), new MemoryTarget(5, 1073741824L));
    }

    @Test
    void shortOfMemoryDonorsGoDownToTheirPreferenceWithQubesTargets() {
        var domains = sixDomains(768);
        var result = balancing.balance(50 * MB, domains);
        assertThat(result).containsExactly(new MemoryTarget(1, 1395864371L), new MemoryTarget(5, 697932185L));
        for (var t : result) {
            var d = domains.get(t.domid());
            assertThat(t.bytes()).as("domain %d above its preference gives", t.domid()).isLessThan(d.actual());
        }
    }

    @Test
    void aQubeThatDoesNotReportOrIsStuckGetsNoTarget() {
        var stuck = new DomainMemory(6, OptionalLong.of(100 * MB), 4096 * MB, 3000 * MB, true);
        var domains = List.of(dom(1, 1024, 4096, 1536), silent(3, 4096, 4096), stuck);
        assertThat(balancing.balance(1000 * MB, domains)).extracting(MemoryTarget::domid).containsExactly(1);
        assertThat(balancing.balloon(100 * MB, domains)).extracting(MemoryTarget::domid).containsExactly(1);
    }

    @Test
    void theAvailableFigureIsFreeMemoryLessWhatTheQubesLackPlusWhatTheyCouldGive() {
        var domains = List.of(dom(1, 1000, 4096, 1000), dom(2, 100, 4096, 1000));
        // 1 lacks 300 MB (prefers 1300), 2 could give 800 (prefers 200)
        assertThat(balancing.availableMemory(500 * MB, domains)).isEqualTo(1000 * MB);
    }
}
