package compart.core.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.core.hypervisor.DomainSpec;
import compart.core.hypervisor.DomainStatus;
import compart.core.hypervisor.test.TestHypervisor;
import compart.errors.CompartException;
import compart.errors.Refusal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker on the simulated hypervisor: its guests obey memory targets at once (unless told to ignore them)
 * and a test writes their {@code memory/meminfo} as meminfo-writer would (used KiB).
 */
class MemoryBrokerTest {
    private static final long MIB = 1024 * 1024;
    private TestHypervisor hv;
    private MemoryBroker broker;

    private void host(long mib) {
        hv = new TestHypervisor(mib, 4);
        broker = new MemoryBroker(hv, MemorySettings.QUBES_DEFAULTS, Duration.ZERO);
    }

    @AfterEach
    void close() {
        if (broker != null) {
            broker.close();
        }
    }

    /** Starts a domain as the start path does: reserve, create, (node for meminfo-writer), hand over. */
    private int start(String name, long memoryMib, long maxmemMib, boolean balanced) {
        var reservation = broker.reserve(name, memoryMib * MIB);
        int domid = hv.createPaused(new DomainSpec(name, UUID.randomUUID(), DomainSpec.Type.PVH, memoryMib,
                maxmemMib, 1, Optional.empty(), Optional.empty(), "", List.of(), List.of()));
        if (balanced) {
            hv.guestWritableNode(domid, "memory/meminfo");
        }
        reservation.handOver(domid, maxmemMib * MIB, balanced);
        hv.unpause(domid);
        return domid;
    }

    private void report(String name, long usedMib) {
        hv.guestWrite(name, "memory/meminfo", Long.toString(usedMib * 1024));
        broker.settle();
    }

    private long mib(int domid) {
        return hv.info(domid).map(DomainStatus::memoryKib).orElseThrow() / 1024;
    }

    @Test
    void aBusyQubeGrowsTowardItsMaxmemWhileAnIdleOneShrinksToItsPreference() {
        host(4096);
        int busy = start("busy", 400, 4000, true);
        int idle = start("idle", 2000, 4000, true);
        report("idle", 100); // prefers 200 MiB
        report("busy", 1500); // prefers 1950 MiB
        assertThat(mib(idle)).isBetween(200L, 400L);
        assertThat(mib(busy)).isGreaterThan(3000L).isLessThanOrEqualTo(4000L);
        assertThat(hv.hostInfo().freeMemoryMib()).as("qmemman's margin stays free").isGreaterThanOrEqualTo(25L);
        assertThat(broker.availableMemory()).isGreaterThan(0L);
    }

    @Test
    void aStartThatOnlyFitsAfterOthersGiveMemoryBackSucceeds() {
        host(4096);
        int a = start("a", 2000, 4000, true);
        report("a", 100); // alone with free memory: a takes it, up to what Xen has
        assertThat(hv.hostInfo().freeMemoryMib()).isLessThan(200L);
        var r = broker.reserve("c", 1000 * MIB);
        assertThat(hv.hostInfo().freeMemoryMib()).isGreaterThanOrEqualTo(1000L);
        assertThat(mib(a)).isLessThan(3100L);
        r.close();
    }

    @Test
    void aDonorThatDoesNotGiveBackIsDroppedAndTheStartIsRefusedWithQubesMessage() {
        host(4096);
        start("a", 2000, 4000, true);
        report("a", 100);
        hv.ignoreBalloon("a");
        assertThatThrownBy(() -> broker.reserve("c", 1000 * MIB)).isInstanceOf(CompartException.class)
                .satisfies(e -> assertThat(((CompartException) e).refusal()).contains(Refusal.NOT_ENOUGH_MEMORY))
                .hasMessageStartingWith("Not enough memory to start domain 'c': needs 1000 MiB")
                .hasMessageContaining("did not give enough back");
        assertThat(broker.reservedBytes()).isZero();
    }

    @Test
    void twoStartsNeverCountTheSameFreePages() {
        host(4096);
        var first = broker.reserve("one", 2500 * MIB);
        assertThatThrownBy(() -> broker.reserve("two", 2500 * MIB))
                .hasMessageStartingWith("Not enough memory to start domain 'two'")
                .hasMessageContaining("2500 MiB promised to other starts");
        first.close();
        broker.reserve("two", 2500 * MIB).close();
        assertThat(broker.reservedBytes()).isZero();
    }

    @Test
    void aReservationHandedOverIsReleasedBecauseTheDomainNowHoldsThePages() {
        host(4096);
        start("one", 2500, 2500, false);
        assertThat(broker.reservedBytes()).isZero();
        assertThatThrownBy(() -> broker.reserve("two", 2500 * MIB)).hasMessageContaining("Not enough memory");
    }

    @Test
    void aQubeWithoutMeminfoWriterKeepsItsSizeAndIsNeverAskedToGiveBack() {
        host(4096);
        int fixed = start("fixed", 3000, 3000, false);
        assertThatThrownBy(() -> broker.reserve("c", 1500 * MIB)).hasMessageContaining("none to spare");
        broker.requestRebalance();
        broker.settle();
        assertThat(mib(fixed)).isEqualTo(3000L);
        assertThat(hv.calls()).noneMatch(c -> c.startsWith("setMemoryTarget"));
    }

    @Test
    void aQubeReportingAbsurdUseGetsNoMoreThanItsMaxmemAndOthersKeepTheirPreference() {
        host(4096);
        int liar = start("liar", 1000, 2500, true);
        int honest = start("honest", 1000, 4000, true);
        report("honest", 500); // prefers 650 MiB
        hv.guestWrite("liar", "memory/meminfo", "1073741824"); // 1 TiB
        broker.settle();
        assertThat(mib(liar)).isLessThanOrEqualTo(2500L);
        assertThat(mib(honest)).isGreaterThanOrEqualTo(649L);
        assertThat(hv.hostInfo().freeMemoryMib()).isGreaterThanOrEqualTo(25L);
    }

    @Test
    void theAvailableFigureIsWrittenAfterEachRebalanceAsQmemmanAvailMem(@TempDir Path dir) throws Exception {
        host(4096);
        Path file = dir.resolve("run/qmemman-avail-mem");
        broker.writeAvailableTo(file);
        start("a", 1000, 4000, true);
        report("a", 500);
        assertThat(Files.readString(file)).isEqualTo(Long.toString(broker.availableMemory()));
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
    }

    @Test
    void anUnusableReportLeavesTheQubeAtItsSize() {
        host(4096);
        int q = start("q", 1000, 4000, true);
        for (String hostile : List.of("12abc", "-5", "99999999999999999999", "1e9", " 100")) {
            hv.guestWrite("q", "memory/meminfo", hostile);
            broker.settle();
            assertThat(mib(q)).as("after %s", hostile).isEqualTo(1000L);
        }
    }

    @Test
    void aDeadDomainIsForgottenAndItsMemoryGoesToTheOthers() {
        host(4096);
        int a = start("a", 1000, 3500, true);
        int b = start("b", 2500, 2500, false);
        report("a", 1500);
        long before = mib(a);
        hv.destroy(b);
        broker.settle(); // the death
        broker.settle(); // the rebalance it asks for
        assertThat(mib(a)).isGreaterThan(before).isLessThanOrEqualTo(3500L);
    }
}
