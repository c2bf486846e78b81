package compart.core.daemon;

import compart.core.testing.Wire;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * compartd under abuse, before and after issue 27, in one run: two daemons ({@code compartd --hypervisor test}, each
 * in its own process with {@code ulimit -n 4096}, state in a temporary directory), one built from this tree and one
 * from an older checkout, driven alternately by the same client code over their sockets:
 * <ol>
 *   <li>create and remove latency of one client (50 cycles of {@code admin.vm.Create.AppVM} +
 *       {@code admin.vm.Remove}) with 0, 400 and 2,000 qubes in the pool, then 20 clients at once for 10 s at 2,000
 *       (cycles done, failed calls, latencies);</li>
 *   <li>5,000 idle connections held for 15 s (more than the daemon's 4,096 file descriptors): {@code admin.vm.List}
 *       latency and failures meanwhile, the daemon's resident memory, CPU time and log bytes, and how many of the
 *       idle connections it still holds at the end.</li>
 * </ol>
 * Run: {@code ./mvnw -o -q -pl toolstack-core -am test-compile dependency:build-classpath
 * -Dmdep.outputFile=/tmp/cp.txt}, build the older checkout the same way (its {@code target/classes}), then {@code java
 * -cp toolstack-core/target/test-classes:toolstack-core/target/classes:$(cat /tmp/cp.txt)
 * compart.core.daemon.AbuseBenchmark OLDER_CHECKOUT_ROOT [SIDES]}. It prints the figures; it asserts nothing.
 */
public final class AbuseBenchmark {
    private AbuseBenchmark() {
    }

    /** One daemon process: its socket, directory and log. */
    record Daemon(String side, Process process, Path dir, Path socket, Path log) {
        /** Starts {@code compartd --hypervisor test} with the classes of {@code classpath}, 4,096 descriptors. */
        static Daemon start(String side, String classpath, List<String> options) throws Exception {
            Path dir = Files.createTempDirectory("compart-abuse-" + side + "-");
            Files.createDirectories(dir.resolve("policy.d"));
            Path socket = dir.resolve("qubesd.sock");
            var command = new StringBuilder("ulimit -n 4096 && exec java --enable-native-access=ALL-UNNAMED -Xmx2g"
                    + " -cp '" + classpath + "' compart.core.daemon.Compartd --hypervisor test --test-memory 4194304"
                    + " --socket " + socket + " --state-dir " + dir.resolve("state") + " --policy-dir "
                    + dir.resolve("policy.d"));
            options.forEach(o -> command.append(' ').append(o));
            Path log = dir.resolve("compartd.log");
            var p = new ProcessBuilder("sh", "-c", command.toString()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            var d = new Daemon(side, p, dir, socket, log);
            long until = System.nanoTime() + 60_000_000_000L;
            while (!d.call("admin.vm.List", "", "dom0", "", 1000).startsWith("0")) {
                if (System.nanoTime() > until || !p.isAlive()) {
                    throw new IllegalStateException(side + " daemon did not start: " + Files.readString(log));
                }
                Thread.sleep(200);
            }
            return d;
        }

        /**
         * One call with a deadline (a daemon that cannot accept would block a plain client forever).
         *
         * @return the reply with NULs as {@code |}; {@code "timeout"} or {@code "io: ..."} when there is none
         */
        String call(String method, String arg, String dest, String payload, long timeoutMs) {
            SocketChannel ch;
            try {
                ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            } catch (IOException e) {
                return "io: " + e.getMessage();
            }
            try (ch; var one = Executors.newVirtualThreadPerTaskExecutor()) {
                Future<String> f = one.submit(() -> {
                    ch.connect(UnixDomainSocketAddress.of(socket));
                    ch.write(ByteBuffer.wrap((method + "+" + arg + " dom0 name " + dest + "\0" + payload)
                            .getBytes(StandardCharsets.UTF_8)));
                    ch.shutdownOutput();
                    return new String(Wire.readToEnd(ch), StandardCharsets.UTF_8).replace('\0', '|');
                });
                try {
                    return f.get(timeoutMs, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    ch.close();
                    return "timeout";
                } catch (Exception e) {
                    return "io: " + e.getCause();
                }
            } catch (IOException e) {
                return "io: " + e.getMessage();
            }
        }

        /** @return resident memory in MiB (VmRSS) */
        long rssMib() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
            return -1;
        }

        /** @return CPU seconds used so far (user + system) */
        double cpuSeconds() throws IOException {
            String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        }

        long logBytes() throws IOException {
            return Files.size(log);
        }

        void stop() throws Exception {
            process.destroy();
            process.waitFor(20, TimeUnit.SECONDS);
            process.destroyForcibly();
            try (var files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    public static void main(String[] args) throws Exception {
        Path before = Path.of(args[0]).toAbsolutePath();
        String sections = args.length > 1 ? args[1] : "creates,idle";
        String ours = Arrays.stream(System.getProperty("java.class.path").split(":"))
                .map(e -> Path.of(e).toAbsolutePath().toString()).collect(Collectors.joining(":"));
        Path root = Path.of(ours.split(":")[0]).toAbsolutePath().getParent().getParent().getParent();
        String theirs = Arrays.stream(ours.split(":")).filter(e -> !e.endsWith("test-classes"))
                .map(e -> e.startsWith(root.toString()) ? before + e.substring(root.toString().length()) : e)
                .collect(Collectors.joining(":"));
        String mine = Arrays.stream(ours.split(":")).filter(e -> !e.endsWith("test-classes"))
                .collect(Collectors.joining(":"));
        System.out.printf("before: %s%nafter:  %s%n", before, root);
        var classpaths = new LinkedHashMap<String, String>();
        classpaths.put("before", theirs);
        classpaths.put("after", mine);
        if (sections.contains("creates")) {
            creates(classpaths);
        }
        if (sections.contains("idle")) {
            idle(classpaths);
        }
    }

    static void creates(Map<String, String> classpaths) throws Exception {
        var daemons = new LinkedHashMap<String, Daemon>();
        for (var e : classpaths.entrySet()) {
            var d = Daemon.start(e.getKey(), e.getValue(), List.of());
            must(d.call("admin.vm.Create.TemplateVM", "", "dom0", "name=tpl label=black", 60_000));
            daemons.put(e.getKey(), d);
        }
        try {
            var filled = new LinkedHashMap<String, Integer>();
            daemons.keySet().forEach(k -> filled.put(k, 0));
            System.out.println("\n1. create / remove latency, one client, 50 cycles (ms)");
            System.out.println("qubes  side    create p50   p99    remove p50   p99    fill time");
            for (int n : new int[] {0, 400, 2000}) {
                for (var d : daemons.values()) {
                    long t0 = System.nanoTime();
                    fill(d, filled.get(d.side()), n);
                    double fillSeconds = (System.nanoTime() - t0) / 1e9;
                    filled.put(d.side(), n);
                    var creates = new ArrayList<Long>();
                    var removes = new ArrayList<Long>();
                    for (int i = 0; i < 50; i++) {
                        String name = "probe-" + n + "-" + i;
                        long a = System.nanoTime();
                        must(d.call("admin.vm.Create.AppVM", "tpl", "dom0", "name=" + name + " label=red", 60_000));
                        long b = System.nanoTime();
                        must(d.call("admin.vm.Remove", "", name, "", 60_000));
                        long c = System.nanoTime();
                        creates.add(b - a);
                        removes.add(c - b);
                    }
                    var cs = AdminApiBenchmark.Stats.of(creates);
                    var rs = AdminApiBenchmark.Stats.of(removes);
                    System.out.printf("%5d  %-6s  %8.1f  %6.1f    %8.1f  %6.1f    %6.1f s to add %d%n", n, d.side(),
                            cs.p50(), cs.p99(), rs.p50(), rs.p99(), fillSeconds, n);
                }
            }
            System.out.println("\n2. 20 clients at once for 10 s with 2,000 qubes: create, start, kill, remove each own qube");
            System.out.println("side    cycles  failed calls  create p50   p99   max (ms)   first failure");
            for (var d : daemons.values()) {
                var creates = new ConcurrentLinkedQueue<Long>();
                var failures = new ConcurrentLinkedQueue<String>();
                var cycles = new AtomicInteger();
                long end = System.nanoTime() + 10_000_000_000L;
                try (var pool = Executors.newFixedThreadPool(20)) {
                    for (int c = 0; c < 20; c++) {
                        int client = c;
                        pool.submit(() -> {
                            for (int i = 0; System.nanoTime() < end; i++) {
                                String name = "load-" + client + "-" + i;
                                long a = System.nanoTime();
                                String r = d.call("admin.vm.Create.AppVM", "tpl", "dom0", "name=" + name
                                        + " label=red", 60_000);
                                creates.add(System.nanoTime() - a);
                                if (!r.startsWith("0")) {
                                    failures.add(r);
                                    continue;
                                }
                                for (String m : List.of("admin.vm.Start", "admin.vm.Kill", "admin.vm.Remove")) {
                                    r = d.call(m, "", name, "", 60_000);
                                    if (!r.startsWith("0")) {
                                        failures.add(m + ": " + r);
                                    }
                                }
                                cycles.incrementAndGet();
                            }
                        });
                    }
                }
                var cs = AdminApiBenchmark.Stats.of(new ArrayList<>(creates));
                String first = failures.isEmpty() ? "-" : failures.peek();
                System.out.printf("%-6s  %6d  %12d  %10.1f  %6.1f  %6.1f   %s%n", d.side(), cycles.get(),
                        failures.size(), cs.p50(), cs.p99(), cs.max(),
                        first.length() > 110 ? first.substring(0, 110) + "..." : first);
            }
        } finally {
            for (var d : daemons.values()) {
                d.stop();
            }
        }
    }

    /** Adds AppVMs {@code fill-FROM} .. {@code fill-TO-1} with 4 clients. */
    static void fill(Daemon d, int from, int to) throws Exception {
        var next = new AtomicInteger(from);
        try (var pool = Executors.newFixedThreadPool(4)) {
            var done = new ArrayList<Future<?>>();
            for (int c = 0; c < 4; c++) {
                done.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < to; i = next.getAndIncrement()) {
                        must(d.call("admin.vm.Create.AppVM", "tpl", "dom0", "name=fill-" + i + " label=red", 120_000));
                    }
                    return null;
                }));
            }
            for (var f : done) {
                f.get();
            }
        }
    }

    static void must(String reply) {
        if (!reply.startsWith("0")) {
            throw new IllegalStateException("call failed: " + reply);
        }
    }

    static void idle(Map<String, String> classpaths) throws Exception {
        System.out.println("\n3. 5,000 idle connections held for 15 s; the daemon has 4,096 file descriptors");
        System.out.println("side          idle opened  List p50   p99  failed/200  RSS idle→held→freed MiB  CPU s  "
                + "log KiB  still held at 15 s");
        var sides = new LinkedHashMap<String, List<String>>();
        sides.put("before", List.of());
        sides.put("after", List.of());
        sides.put("after-nocap", List.of("--max-connections", "100000"));
        for (var side : sides.entrySet()) {
            String cp = classpaths.get(side.getKey().startsWith("after") ? "after" : "before");
            var d = Daemon.start(side.getKey(), cp, side.getValue());
            var held = new ArrayList<SocketChannel>();
            try {
                must(d.call("admin.vm.Create.TemplateVM", "", "dom0", "name=tpl label=black", 60_000));
                for (int i = 0; i < 10; i++) {
                    must(d.call("admin.vm.Create.AppVM", "tpl", "dom0", "name=q" + i + " label=red", 60_000));
                }
                long rssIdle = d.rssMib();
                double cpu0 = d.cpuSeconds();
                long log0 = d.logBytes();
                // connect as fast as the daemon takes them (a full backlog refuses at once: retry), for 15 s at most
                long openUntil = System.nanoTime() + 15_000_000_000L;
                while (held.size() < 5000 && System.nanoTime() < openUntil) {
                    var ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                    ch.configureBlocking(false);
                    try {
                        if (ch.connect(UnixDomainSocketAddress.of(d.socket()))) {
                            held.add(ch);
                            continue;
                        }
                    } catch (IOException backlogFull) {
                        Thread.sleep(1);
                    }
                    ch.close();
                }
                int opened = held.size();
                var lists = new ArrayList<Long>();
                int failed = 0;
                long until = System.nanoTime() + 15_000_000_000L;
                long rssHeld = 0;
                for (int i = 0; i < 200; i++) {
                    long a = System.nanoTime();
                    String r = d.call("admin.vm.List", "", "dom0", "", 2000);
                    lists.add(System.nanoTime() - a);
                    if (!r.startsWith("0")) {
                        failed++;
                    }
                    rssHeld = Math.max(rssHeld, d.rssMib());
                    long left = until - System.nanoTime();
                    if (left > 0) {
                        Thread.sleep(Math.min(left / 1_000_000 / Math.max(1, 200 - i), 70));
                    }
                }
                while (System.nanoTime() < until) {
                    Thread.sleep(100);
                }
                double cpu = d.cpuSeconds() - cpu0;
                long logKib = (d.logBytes() - log0) / 1024;
                var ends = new TreeMap<String, Integer>();
                for (var ch : held) {
                    String end;
                    try {
                        end = "read " + ch.read(ByteBuffer.allocate(1));
                    } catch (IOException closed) {
                        end = closed.toString();
                    }
                    ends.merge(end, 1, Integer::sum);
                }
                int stillHeld = ends.getOrDefault("read 0", 0);

                for (var ch : held) {
                    ch.close();
                }
                held.clear();
                Thread.sleep(5000);
                long rssFreed = d.rssMib();
                var ls = AdminApiBenchmark.Stats.of(lists);
                System.out.printf("%-12s  %11d  %8.1f  %5.1f  %10d  %7d → %5d → %5d     %5.1f  %7d  %d%n",
                        side.getKey(), opened, ls.p50(), ls.p99(), failed, rssIdle, rssHeld, rssFreed, cpu, logKib,
                        stillHeld);
            } finally {
                for (var ch : held) {
                    ch.close();
                }
                d.stop();
            }
        }
    }
}
