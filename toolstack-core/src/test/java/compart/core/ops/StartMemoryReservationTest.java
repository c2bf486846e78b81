package compart.core.ops;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.hypervisor.DomainStatus;
import compart.core.hypervisor.test.TestHypervisor;
import compart.core.model.QubeClass;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starts reserve their memory with the broker under one lock: two starts never count the same free pages. */
class StartMemoryReservationTest {
    @TempDir
    Path dir;

    private Toolstack twoBigQubes(TestHypervisor hv) {
        var random = new Random(7);
        var ts = FilePoolToolstack.withFedora(dir, hv, random);
        for (String name : List.of("one", "two")) {
            ts.create(name, i -> i.withNewQube(QubeClass.AppVM, name, "blue", Optional.of("fedora"), random)
                    .withProperty(name, "memory", "2000").withProperty(name, "maxmem", "2000"));
        }
        return ts;
    }

    @RepeatedTest(5)
    void twoConcurrentStartsThatCannotBothFit_oneStarts_theOtherIsRefusedWithQubesMessage_nothingHalfCreated()
            throws Exception {
        var hv = new TestHypervisor(3000, 2);
        try (var ts = twoBigQubes(hv)) {
            var starts = List.of(ts.start("one"), ts.start("two"));
            var refusals = new ArrayList<String>();
            for (var s : starts) {
                try {
                    s.get(60, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    refusals.add(e.getCause().getMessage());
                }
            }
            assertThat(refusals).hasSize(1);
            assertThat(refusals.getFirst()).contains("Not enough memory to start domain '")
                    .contains("MiB promised to other starts");
            assertThat(hv.list()).hasSize(1).allMatch(d -> d.state() == DomainStatus.State.RUNNING);
            String started = hv.list().getFirst().name();
            String refused = started.equals("one") ? "two" : "one";
            assertThat(hv.calls()).filteredOn(c -> c.startsWith("createPaused")).containsExactly("createPaused "
                    + started);
            assertThat(ts.powerState(refused)).isEqualTo(PowerState.Halted);
            assertThat(ts.memory().reservedBytes()).isZero();
        }
    }

    @Test
    void aRefusedStartCanStartOnceTheOtherStops() {
        var hv = new TestHypervisor(3000, 2);
        try (var ts = twoBigQubes(hv)) {
            ts.start("one").join();
            CompletableFuture<Void> second = ts.start("two");
            assertThat(second).failsWithin(Duration.ofSeconds(60));
            ts.kill("one").join();
            ts.start("two").join();
            assertThat(ts.powerState("two")).isEqualTo(PowerState.Running);
        }
    }
}
