package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Preloaded disposables on real Xen: compartd on libxl, a disposable template {@code dvm} whose disposables boot the
 * harness's guest kernel with the qrexec test agent (as {@link QvmRunIT}'s {@code work}: 256 MiB, one vCPU).
 *
 * <p>{@code qvm-run --dispvm=dvm --pass-io 'echo hi'} is replayed as qvm-run makes it: {@code admin.vm.CreateDisposable}
 * on {@code dvm}, {@code internal.vm.Run} with autostart in the disposable it names, {@code admin.vm.Kill}. Its
 * request-to-output time is printed (not asserted) for three rounds without preloading, then three with
 * {@code preload-dispvm-max 1}: each of those runs in the disposable that was listed in {@code preload-dispvm}
 * (paused) before the call, and the queue refills with a new one (waited for before the next round, so each round
 * finds one ready).
 *
 * <p>Costs seven starts of a disposable (three cold rounds, the first fill, three refills): about 4–6 minutes of
 * TCG time at 40–60 s a start.
 */
class PreloadedDispVmIT {
    @AfterEach
    void destroyWhatIsLeft() {
        Dom0Host.destroyAllGuests();
    }

    static final Path BASE = Path.of("/var/lib/compart-it/preload");
    static final int ROUNDS = 3;
    static final long READY_MS = 360_000;
    AdminApiSocket admin;

    String ok(String method, String arg, String dest, String payload) throws Exception {
        return admin.ok(method, arg, dest, payload);
    }

    static void print(String format, Object... args) {
        System.out.println("COMPART-XENHOST: PreloadedDispVmIT " + String.format(format, args));
    }

    /** One {@code qvm-run --dispvm=dvm --pass-io 'echo hi'}: the disposable it ran in, the time to its output. */
    record Round(String disposable, long ms, String output) {
    }

    Round qvmRunDispvm() throws Exception {
        long t0 = System.nanoTime();
        String disp = ok("admin.vm.CreateDisposable", "", "dvm", "");
        String out = admin.run(disp, "echo hi");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        ok("admin.vm.Kill", "", disp, "");
        waitUntil("disposable " + disp + " removed after its kill", 120_000, () -> !qubes().contains(disp));
        return new Round(disp, ms, out);
    }

    List<String> qubes() throws Exception {
        return Arrays.stream(ok("admin.vm.List", "", "dom0", "").split("\n")).map(l -> l.split(" ")[0]).toList();
    }

    List<String> preloads() throws Exception {
        String r = admin.call("admin.vm.feature.Get", "preload-dispvm", "dvm", "");
        return !r.startsWith("0|") || r.length() == 2 ? List.of() : List.of(r.substring(2).split(" "));
    }

    /** @return whether the queue holds one preload, ready: paused and marked completed */
    boolean oneReady() throws Exception {
        var list = preloads();
        return list.size() == 1 && ok("admin.vm.CurrentState", "", list.getFirst(), "").contains("power_state=Paused")
                && admin.call("admin.vm.feature.Get", "preload-dispvm-completed", list.getFirst(), "").equals("0|1");
    }

    interface Check {
        boolean holds() throws Exception;
    }

    static void waitUntil(String what, long ms, Check check) throws Exception {
        long deadline = System.nanoTime() + ms * 1_000_000;
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + ms / 1000 + " s: " + what);
            }
            Thread.sleep(200);
        }
    }

    static long median(List<Long> values) {
        var sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    @Test
    void qvmRunDispvm_runsInAPreloadedDisposable_theQueueRefills_andTheTimesAreCompared() throws Exception {
        QrexecIT.installKernelDirs();
        admin = new AdminApiSocket(BASE.resolve("qubesd.sock"));
        try (var daemon = QvmRunIT.withQrexecTemplate(BASE)) {
            ok("admin.vm.feature.Set", "supported-rpc.qubes.WaitForRunningSystem", "tpl", "1");
            ok("admin.vm.Create.AppVM", "tpl", "dom0", "name=dvm label=red");
            ok("admin.vm.property.Set", "template_for_dispvms", "dvm", "True");
            ok("admin.vm.property.Set", "memory", "dvm", "256");
            ok("admin.vm.property.Set", "maxmem", "dvm", "256");
            ok("admin.vm.property.Set", "vcpus", "dvm", "1");
            ok("admin.vm.property.Set", "kernel", "dvm", "qrexec");
            ok("admin.vm.property.Set", "kernelopts", "dvm", "rdinit=/qrexec-init");
            ok("admin.vm.property.Set", "qrexec_timeout", "dvm", "360");
            ok("admin.vm.feature.Set", "preload-dispvm-delay", "dvm", "0");

            var cold = new ArrayList<Long>();
            for (int i = 1; i <= ROUNDS; i++) {
                var r = qvmRunDispvm();
                assertThat(r.output()).isEqualTo("hi\n||X=0");
                print("qvm-run --dispvm 'echo hi', preload-dispvm-max 0, round %d (%s): %d ms", i, r.disposable(),
                        r.ms());
                cold.add(r.ms());
            }

            print("memory broker: %d MiB available for preloads (each takes 256)",
                    daemon.toolstack().memory().availableMemoryNow() / (1024 * 1024));
            long t0 = System.nanoTime();
            ok("admin.vm.feature.Set", "preload-dispvm-max", "dvm", "1");
            waitUntil("a preloaded disposable paused", READY_MS, this::oneReady);
            print("first preload ready %d ms after preload-dispvm-max 1 was set", (System.nanoTime() - t0) / 1_000_000);

            var preloaded = new ArrayList<Long>();
            for (int i = 1; i <= ROUNDS; i++) {
                String listed = preloads().getFirst();
                assertThat(ok("admin.vm.property.Get", "is_preload", listed, "")).endsWith("True");

                var r = qvmRunDispvm();

                assertThat(r.output()).isEqualTo("hi\n||X=0");
                assertThat(r.disposable()).as("the disposable qvm-run ran in was the preloaded one").isEqualTo(listed);
                print("qvm-run --dispvm 'echo hi', preload-dispvm-max 1, round %d (%s, preloaded): %d ms", i,
                        r.disposable(), r.ms());
                preloaded.add(r.ms());
                long refill = System.nanoTime();
                waitUntil("the queue refilled with a new paused disposable", READY_MS,
                        () -> oneReady() && !preloads().contains(listed));
                print("refilled with %s, ready %d ms after the round", preloads().getFirst(),
                        (System.nanoTime() - refill) / 1_000_000);
            }
            long c = median(cold);
            long p = median(preloaded);
            print("qvm-run --dispvm request-to-output, median of %d: preload 0 %d ms, preload 1 %d ms (%.3fx of cold; "
                    + "target <= 0.1x)", ROUNDS, c, p, (double) p / c);

            ok("admin.vm.feature.Set", "preload-dispvm-max", "dvm", "0");
            waitUntil("the preload removed", 120_000, () -> preloads().isEmpty()
                    && qubes().stream().noneMatch(n -> n.startsWith("disp")));
        }
    }
}
