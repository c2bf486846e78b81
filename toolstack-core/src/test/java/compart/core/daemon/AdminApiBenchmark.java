package compart.core.daemon;

import compart.core.api.AdminApi;
import compart.core.api.AdminRequest;
import compart.core.testing.Wire;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Load on a real compartd (test hypervisor, state and default pool in a temporary directory): 200 AppVMs on one
 * template, then
 * <ol>
 *   <li>in the daemon (no socket): one {@code admin.vm.List} plus {@code admin.vm.property.GetAll} of all 200
 *       qubes, repeated; the target is under 20 ms;</li>
 *   <li>over the socket: {@code admin.vm.List} and {@code admin.vm.property.Get} latency when idle;</li>
 *   <li>20 concurrent {@code admin.vm.Start}s (each with its volumes) while another client lists the qubes in a
 *       loop: every request must be answered, the listing's p99 under 50 ms.</li>
 * </ol>
 * Not JMH: it measures latency distributions under a concurrent load, which JMH's harness does not drive. Run with
 * {@code ./mvnw -q -Pbench -pl toolstack-core test-compile exec:exec}; it prints the figures.
 */
public final class AdminApiBenchmark {
    private AdminApiBenchmark() {
    }

    record Stats(int n, double p50, double p99, double max) {
        static Stats of(List<Long> nanos) {
            long[] a = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
            return new Stats(a.length, a[a.length / 2] / 1e6, a[(int) Math.min(a.length - 1, Math.ceil(a.length * 0.99) - 1)] / 1e6,
                    a[a.length - 1] / 1e6);
        }

        @Override
        public String toString() {
            return String.format("n=%d p50=%.2f ms p99=%.2f ms max=%.2f ms", n, p50, p99, max);
        }
    }

    public static void main(String[] args) throws Exception {
        int qubes = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        Path dir = Files.createTempDirectory("compart-bench");
        var d = new Compartd();
        d.socket = dir.resolve("qubesd.sock");
        d.stateDir = dir.resolve("state");
        d.hypervisor = "test";
        d.testMemoryMib = 1L << 20;
        d.policyDirs = List.of(dir.resolve("policy.d"));
        try (var daemon = d.start()) {
            var wire = new Wire(d.socket);
            long t0 = System.nanoTime();
            wire.ok("admin.vm.Create.TemplateVM", "", "dom0", "name=tpl label=black");
            for (int i = 0; i < qubes; i++) {
                wire.ok("admin.vm.Create.AppVM", "tpl", "dom0", "name=q" + i + " label=blue");
            }
            System.out.printf("created %d AppVMs (+ template) with their volumes in %.0f ms%n", qubes,
                    (System.nanoTime() - t0) / 1e6);

            var api = new AdminApi(daemon.toolstack());
            var names = daemon.toolstack().inventory().qubes().keySet().stream().toList();
            var inDaemon = new ArrayList<Long>();
            for (int round = 0; round < 300; round++) {
                long s = System.nanoTime();
                byte[] list = api.handle(new AdminRequest("admin.vm.List", "", "dom0", "dom0", new byte[0]));
                long bytes = list.length;
                for (String n : names) {
                    bytes += api.handle(new AdminRequest("admin.vm.property.GetAll", "", "dom0", n, new byte[0])).length;
                }
                if (round >= 50) {
                    inDaemon.add(System.nanoTime() - s);
                }
                if (bytes < 1000L * names.size()) {
                    throw new AssertionError("short replies");
                }
            }
            System.out.println("in daemon: vm.List + property.GetAll of " + names.size() + " qubes: "
                    + Stats.of(inDaemon));

            var listIdle = new ArrayList<Long>();
            var getIdle = new ArrayList<Long>();
            for (int i = 0; i < 1000; i++) {
                long s = System.nanoTime();
                wire.ok("admin.vm.List", "", "dom0", "");
                long m = System.nanoTime();
                wire.ok("admin.vm.property.Get", "memory", "q" + (i % qubes), "");
                long e = System.nanoTime();
                if (i >= 100) {
                    listIdle.add(m - s);
                    getIdle.add(e - m);
                }
            }
            System.out.println("socket, idle: admin.vm.List " + Stats.of(listIdle));
            System.out.println("socket, idle: admin.vm.property.Get " + Stats.of(getIdle));

            int starts = 20;
            var pool = Executors.newFixedThreadPool(starts + 2);
            var go = new CountDownLatch(1);
            var done = new CountDownLatch(starts);
            var failures = new AtomicInteger();
            var startTimes = new ConcurrentLinkedQueue<Long>();
            for (int i = 0; i < starts; i++) {
                String name = "q" + i;
                pool.submit(() -> {
                    try {
                        go.await();
                        long s = System.nanoTime();
                        wire.ok("admin.vm.Start", "", name, "");
                        startTimes.add(System.nanoTime() - s);
                    } catch (Throwable e) {
                        failures.incrementAndGet();
                        System.err.println(name + ": " + e);
                    } finally {
                        done.countDown();
                    }
                    return null;
                });
            }
            var stop = new AtomicBoolean();
            var listLoaded = new ConcurrentLinkedQueue<Long>();
            var getLoaded = new ConcurrentLinkedQueue<Long>();
            var lister = pool.submit(() -> {
                int i = 0;
                while (!stop.get()) {
                    long s = System.nanoTime();
                    wire.ok("admin.vm.List", "", "dom0", "");
                    long m = System.nanoTime();
                    wire.ok("admin.vm.property.Get", "memory", "q" + (i++ % qubes), "");
                    listLoaded.add(m - s);
                    getLoaded.add(System.nanoTime() - m);
                }
                return null;
            });
            long s = System.nanoTime();
            go.countDown();
            done.await();
            long wall = System.nanoTime() - s;
            Thread.sleep(200);
            stop.set(true);
            lister.get();
            pool.shutdown();
            long running = Arrays.stream(wire.ok("admin.vm.List", "", "dom0", "").split("\n"))
                    .filter(l -> l.contains("state=Running")).count();
            System.out.printf("20 concurrent starts: %d failed, %d qubes running (dom0 included), wall %.0f ms; "
                    + "each start %s%n", failures.get(), running, wall / 1e6, Stats.of(List.copyOf(startTimes)));
            System.out.println("socket, during the starts: admin.vm.List " + Stats.of(List.copyOf(listLoaded)));
            System.out.println("socket, during the starts: admin.vm.property.Get " + Stats.of(List.copyOf(getLoaded)));
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
