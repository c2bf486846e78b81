package compart.core.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.core.hypervisor.test.TestHypervisor;
import compart.core.model.QubeClass;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How disposables get their dispid (and so their name), as Qubes chooses it; with a fixed clock. */
class DisposablesTest {
    @TempDir
    Path dir;
    final TestHypervisor hv = new TestHypervisor(4096, 2);

    static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");

    Toolstack toolstack() {
        var r = new Random(3);
        var ts = FilePoolToolstack.withFedora(dir, hv, r);
        FilePoolToolstack.addDisposableTemplate(ts, r);
        return ts;
    }

    /** A generator answering the given numbers (as nextInt's results), then failing the test. */
    static RandomGenerator answering(int... values) {
        return new RandomGenerator() {
            int i;

            @Override
            public long nextLong() {
                throw new AssertionError("only nextInt is expected");
            }

            @Override
            public int nextInt(int bound) {
                assertThat(bound).isEqualTo(9999);
                return values[i++];
            }
        };
    }

    @Test
    void pick_skipsDispidsInUse_namesTaken_andThoseRemovedWithinSevenDays() {
        var ts = toolstack();
        ts.create("disp500", i -> {
            var a = i.withNewQube(QubeClass.DispVM, "disp500", "red", Optional.of("dvm"), new Random(4));
            return a.withQube(a.qube("disp500").withDispid(500));
        });
        ts.create("disp41", i -> i.withNewQube(QubeClass.AppVM, "disp41", "red", Optional.of("fedora"),
                new Random(5)));
        var removed = new HashMap<Integer, Instant>(Map.of(9, NOW.minus(Duration.ofDays(6)),
                10, NOW.minus(Duration.ofDays(8))));

        int picked = Disposables.pick(answering(499, 40, 8, 9), ts.inventory(), removed, NOW);

        assertThat(picked).isEqualTo(10); // 500 used, disp41 (a name), 9 (removed 6 days ago) skipped; 10 is free again
    }

    @Test
    void pick_givesUpAfterAHundredTries() {
        var ts = toolstack();
        int used = ts.disposables().create("dvm", "dom0").dispid();
        int[] same = new int[100];
        Arrays.fill(same, used - 1);

        assertThatThrownBy(() -> Disposables.pick(answering(same), ts.inventory(), Map.of(), NOW))
                .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.kind())
                        .isEqualTo(ErrorKind.INVALID_STATE)).hasMessageContaining("100 tries");
    }

    @Test
    void aRemovedDisposablesDispid_isNotGivenAgain() {
        var ts = toolstack();
        var d = ts.disposables().create("dvm", "dom0");

        ts.remove(d.name()).join();

        assertThat(ts.disposables().recentlyRemoved()).containsExactly(d.dispid());
        assertThat(ts.inventory().find(d.name())).isEmpty();
    }

    @Test
    void startForCall_andDispose_runTheRealLifecycle_onTheTestHypervisor() {
        var ts = toolstack();

        String name = ts.disposables().startDisposable("dvm", "work");
        assertThat(ts.powerState(name)).isEqualTo(PowerState.Running);
        assertThat(hv.list()).extracting(x -> x.name()).contains(name);

        ts.disposables().dispose(name);

        assertThat(ts.inventory().find(name)).isEmpty();
        assertThat(hv.list()).extracting(x -> x.name()).doesNotContain(name);
        ts.disposables().dispose(name); // already gone: nothing to do
    }
}
