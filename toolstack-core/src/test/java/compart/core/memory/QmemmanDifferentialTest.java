package compart.core.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import compart.core.testing.QubesdOffline;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our {@link Balancing} against Qubes' own {@code qubes/qmemman/algo.py}, run by python3 from the qubes-core-admin
 * sources in {@code ../shared}: the same random hosts through both, the same targets to the byte. Skips, saying
 * why, without those sources or python3.
 */
class QmemmanDifferentialTest {
    private static final String ADMIN = "qubes-core-admin-4.3.50";
    private static final long MB = 1024 * 1024;

    /** Reads cases ({@code free request; domid used max actual stuck; ...}) and prints balance | balloon per case. */
    private static final String DRIVER = """
            import importlib.util, sys
            spec = importlib.util.spec_from_file_location("algo", sys.argv[1])
            algo = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(algo)
            class Dom:
                pass
            for line in sys.stdin:
                parts = line.strip().split(";")
                free, request = (int(x) for x in parts[0].split())
                doms = {}
                for p in parts[1:]:
                    domid, used, mx, actual, stuck = p.split()
                    d = Dom()
                    d.domid = domid
                    d.mem_used = None if used == "-" else int(used)
                    d.mem_max = int(mx)
                    d.mem_actual = int(actual)
                    d.no_progress = stuck == "1"
                    doms[domid] = d
                fmt = lambda rs: ",".join("%s:%d" % (k, v) for k, v in rs)
                print(fmt(algo.balance(free, doms)) + "|" + fmt(algo.balloon(request, doms)))
            """;

    @TempDir
    Path dir;

    private static String run(Path workDir, String input, String... command) throws IOException, InterruptedException {
        var p = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(input.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void ourTargetsAreQubesTargetsToTheByteOnRandomHosts() throws Exception {
        Path tarball = QubesdOffline.shared().resolve("qubes-dom0-src/" + ADMIN + ".tar.gz");
        assumeTrue(Files.isRegularFile(tarball), "Qubes' sources are not here: " + tarball + " is missing "
                + "(-Dqubes.sources=DIR names the folder holding qubes-dom0-src/)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no /usr/bin/python3 to run Qubes' qmemman");
        String algoPath = ADMIN + "/qubes/qmemman/algo.py";
        run(dir, "", "tar", "xzf", tarball.toString(), algoPath);
        Files.writeString(dir.resolve("driver.py"), DRIVER);

        var random = new Random(22);
        var cases = new ArrayList<Host>();
        for (int i = 0; i < 400; i++) {
            cases.add(Host.random(random));
        }
        String input = cases.stream().map(Host::line).collect(Collectors.joining("\n", "", "\n"));
        var qubes = run(dir, input, "/usr/bin/python3", "driver.py", algoPath).lines().toList();
        assertThat(qubes).hasSize(cases.size());
        var balancing = new Balancing(MemorySettings.QUBES_DEFAULTS);
        for (int i = 0; i < cases.size(); i++) {
            var h = cases.get(i);
            String ours = format(balancing.balance(h.free, h.domains)) + "|"
                    + format(balancing.balloon(h.request, h.domains));
            assertThat(ours).as("case %s", h.line()).isEqualTo(qubes.get(i));
        }
    }

    private static String format(List<MemoryTarget> targets) {
        return targets.stream().map(t -> t.domid() + ":" + t.bytes()).collect(Collectors.joining(","));
    }

    /** One random host: free memory (may be short), a balloon request, dom0 and up to 10 qubes. */
    private record Host(long free, long request, List<DomainMemory> domains) {
        static Host random(Random r) {
            var domains = new ArrayList<DomainMemory>();
            int n = 1 + r.nextInt(11);
            for (int id = 0; id < n; id++) {
                long max = (64 + r.nextInt(16000)) * MB + r.nextInt(1024);
                long actual = (long) (max * r.nextDouble());
                var used = r.nextInt(8) == 0 ? OptionalLong.empty()
                        : OptionalLong.of((long) (r.nextInt(12000) * MB * r.nextDouble()));
                domains.add(new DomainMemory(id, used, max, actual, r.nextInt(10) == 0));
            }
            return new Host((r.nextInt(20000) - 500) * MB + r.nextInt(4096), (1 + r.nextInt(8000)) * MB, domains);
        }

        String line() {
            return free + " " + request + domains.stream().map(d -> ";" + d.domid() + " "
                    + (d.used().isPresent() ? Long.toString(d.used().getAsLong()) : "-") + " " + d.max() + " "
                    + d.actual() + " " + (d.noProgress() ? 1 : 0)).collect(Collectors.joining());
        }
    }
}
