package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Twenty busy admins at once, each creating, starting, stopping and removing its own qubes for 30 s
 * ({@code -Dcompart.stress.seconds=N} to change it): no call fails, and at the end the daemon's list, the stored
 * state and the pool's files say the same.
 */
class ConcurrentCreatesTest {
    static final int CLIENTS = 20;
    static final long SECONDS = Long.getLong("compart.stress.seconds", 30);

    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(65536).withTemplate("fedora", "black");
    final Wire admin = compartd.admin();

    @Test
    void twentyClientsCreateStartStopRemove_withoutOneFailure_andTheStateAgrees() throws Exception {
        var failures = new ConcurrentLinkedQueue<String>();
        var cycles = new AtomicInteger();
        long end = System.nanoTime() + SECONDS * 1_000_000_000L;
        var kept = new ConcurrentLinkedQueue<String>();
        try (var pool = Executors.newFixedThreadPool(CLIENTS)) {
            var clients = new ArrayList<Future<?>>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                clients.add(pool.submit(() -> {
                    for (int i = 0; System.nanoTime() < end; i++) {
                        String name = "c" + client + "-" + i;
                        for (var call : List.of(
                                List.of("admin.vm.Create.AppVM", "fedora", "dom0", "name=" + name + " label=red"),
                                List.of("admin.vm.property.Set", "memory", name, "200"),
                                List.of("admin.vm.Start", "", name, ""),
                                List.of("admin.vm.Shutdown", "wait", name, ""),
                                List.of("admin.vm.Remove", "", name, ""))) {
                            String r = admin.call(call.get(0), call.get(1), call.get(2), call.get(3));
                            if (!r.startsWith("0|")) {
                                failures.add(call.get(0) + " " + name + ": " + r);
                            }
                        }
                        if (i % 10 == 0) { // some qubes stay, so the pool grows while the others come and go
                            String stays = "k" + client + "-" + i;
                            String r = admin.call("admin.vm.Create.AppVM", "fedora", "dom0", "name=" + stays
                                    + " label=blue");
                            if (r.startsWith("0|")) {
                                kept.add(stays);
                            } else {
                                failures.add("admin.vm.Create.AppVM " + stays + ": " + r);
                            }
                        }
                        cycles.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (var f : clients) {
                f.get();
            }
        }
        System.out.printf("ConcurrentCreatesTest: %d clients, %d s: %d create-start-stop-remove cycles, %d qubes kept, "
                + "%d failed calls%n", CLIENTS, SECONDS, cycles.get(), kept.size(), failures.size());
        assertThat(failures).isEmpty();
        assertThat(cycles.get()).isGreaterThan(CLIENTS);

        Set<String> listed = Stream.of(admin.ok("admin.vm.List", "", "dom0", "").split("\n"))
                .map(l -> l.split(" ")[0]).collect(Collectors.toCollection(TreeSet::new));
        var expected = new TreeSet<>(kept);
        expected.addAll(List.of("dom0", "fedora"));
        assertThat(listed).isEqualTo(expected);
        Set<String> stored;
        try (var files = Files.list(compartd.stateDir().resolve("qubes"))) {
            stored = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json"))
                    .map(n -> n.substring(0, n.length() - 5)).collect(Collectors.toCollection(TreeSet::new));
        }
        stored.removeAll(Set.of("dom0", "fedora"));
        assertThat(stored).as("stored qubes").isEqualTo(new TreeSet<>(kept));
        Path appvms = compartd.stateDir().resolve("pool/appvms");
        Set<String> withFiles;
        try (var dirs = Files.list(appvms)) {
            withFiles = dirs.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
        assertThat(withFiles).as("qubes with volumes in the pool").isEqualTo(new TreeSet<>(kept));
    }
}
