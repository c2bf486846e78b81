package compart.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A running daemon's policy follows the files: a change is swapped in whole; the old policy stays usable. */
class LivePolicyTest {
    @TempDir
    Path tmp;

    static void awaitGeneration(LivePolicy live, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (live.generation() < atLeast && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            Thread.sleep(20); // the kernel's inotify event is what we wait for; no clock to fake here
        }
        assertThat(live.generation()).as("reloads").isGreaterThanOrEqualTo(atLeast);
    }

    @Test
    void changedFile_isSwappedIn_andDecisionsHoldingTheOldPolicyKeepIt() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("policy.d"));
        Files.writeString(dir.resolve("30-a.policy"), "qubes.X * @anyvm @anyvm deny\n");
        try (LivePolicy live = new LivePolicy(List.of(dir), tmp.resolve("legacy"))) {
            Policy before = live.current();
            Request call = Request.of("qubes.X", "work", "vault");
            assertThat(before.evaluate(call, PolicyFixtures.system())).isInstanceOf(Resolution.Deny.class);

            Path next = dir.resolve(".30-a.policy.new");
            Files.writeString(next, "qubes.X * @anyvm @anyvm allow\n");
            Files.move(next, dir.resolve("30-a.policy"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            awaitGeneration(live, 2);

            assertThat(live.current().evaluate(call, PolicyFixtures.system())).isInstanceOf(Resolution.Allow.class);
            assertThat(before.evaluate(call, PolicyFixtures.system())).isInstanceOf(Resolution.Deny.class);
        }
    }

    @Test
    void brokenEdit_failsClosed() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("policy.d"));
        Files.writeString(dir.resolve("30-a.policy"), "qubes.X * @anyvm @anyvm allow\n");
        try (LivePolicy live = new LivePolicy(List.of(dir), null)) {
            Files.writeString(dir.resolve("40-b.policy"), "qubes.X * @anyvm\n");
            awaitGeneration(live, 2);
            while (live.current().valid()) Thread.sleep(20);
            var r = live.current().evaluate(Request.of("qubes.X", "work", "vault"), PolicyFixtures.system());
            assertThat(((Resolution.Deny) r).reason()).contains("40-b.policy:1: wrong number of fields");
        }
    }

    @Test
    void aMissingPolicyDirectory_isPickedUpWhenCreated_andOtherFilesBesideItCauseNoReload() throws Exception {
        Path run = Files.createDirectories(tmp.resolve("run"));
        Path missing = run.resolve("policy.d");
        try (LivePolicy live = new LivePolicy(List.of(missing), tmp.resolve("legacy"))) {
            assertThat(live.generation()).isEqualTo(1);
            // what other programs do in /run/qubes all day
            for (int i = 0; i < 20; i++) {
                Files.writeString(run.resolve("qubesdb." + i + ".sock"), "x");
            }
            Thread.sleep(300);
            Path staged = Files.createDirectories(tmp.resolve("staging/policy.d"));
            Files.writeString(staged.resolve("30-a.policy"), "qubes.X * @anyvm @anyvm allow\n");
            Files.move(staged, missing, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            awaitGeneration(live, 2);

            var r = live.current().evaluate(Request.of("qubes.X", "work", "vault"), PolicyFixtures.system());
            assertThat(r).isInstanceOf(Resolution.Allow.class);
            assertThat(live.generation()).as("reloads: the directory's creation only").isEqualTo(2);
        }
    }
}
