package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.daemon.Compartd;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * dom0's qvm-run path for real: compartd on libxl with two AppVMs booting the harness's guest kernel, {@code work}
 * with the qrexec test agent in its initramfs (kernel dir {@code qrexec}, {@code rdinit=/qrexec-init}) and
 * {@code broken} without one. A run in the halted {@code work} autostarts it (its start waits for the agent:
 * feature {@code qrexec}) and returns the remote stdout and exit code over {@code internal.vm.Run}, the frames
 * qvm-run sends ({@link AdminApiSocket#run}); {@code broken} fails to start after its {@code qrexec_timeout} as in
 * Qubes, its domain destroyed and its volumes stopped.
 */
class QvmRunIT {
    @AfterEach
    void destroyWhatIsLeft() {
        Dom0Host.destroyAllGuests();
    }

    static final Path BASE = Path.of("/var/lib/compart-it/qvmrun");
    Path socket;

    String call(String method, String arg, String dest, String payload) throws Exception {
        return new AdminApiSocket(socket).call(method, arg, dest, payload);
    }

    String ok(String method, String arg, String dest, String payload) throws Exception {
        return new AdminApiSocket(socket).ok(method, arg, dest, payload);
    }

    byte[] exchange(byte[] request, boolean shutdown) throws Exception {
        return new AdminApiSocket(socket).exchange(request, shutdown);
    }

    static byte[] frame(char type, byte[] data) {
        return ByteBuffer.allocate(5 + data.length).put((byte) type).putInt(data.length).put(data).array();
    }

    /** What {@code qvm-run --pass-io QUBE COMMAND} sends and gets (see {@link AdminApiSocket#run}). */
    String qvmRun(String qube, String command) throws Exception {
        return new AdminApiSocket(socket).run(qube, command);
    }

    @Test
    void qvmRunPassIo_autostartsTheQube_printsHi_andExitsWithTheRemoteCode_andAMissingAgentFailsTheStart()
            throws Exception {
        QrexecIT.installKernelDirs();

        Path state = BASE.resolve("state-" + ProcessHandle.current().pid());
        socket = BASE.resolve("qubesd.sock");
        try (var daemon = withQrexecTemplate(BASE)) {
            for (String q : List.of("work", "broken")) {
                ok("admin.vm.Create.AppVM", "tpl", "dom0", "name=" + q + " label=blue");
                ok("admin.vm.property.Set", "memory", q, "256");
                ok("admin.vm.property.Set", "maxmem", q, "256");
                ok("admin.vm.property.Set", "vcpus", q, "1");
            }
            ok("admin.vm.property.Set", "kernel", "work", "qrexec");
            ok("admin.vm.property.Set", "kernelopts", "work", "rdinit=/qrexec-init");
            ok("admin.vm.property.Set", "qrexec_timeout", "work", "360");
            ok("admin.vm.property.Set", "qrexec_timeout", "broken", "5");

            long t0 = System.nanoTime();
            String r = qvmRun("work", "echo hi; exit 3");
            System.out.printf("QvmRunIT: qvm-run --pass-io work (autostart) took %.1f s: %s%n",
                    (System.nanoTime() - t0) / 1e9, r);
            assertThat(r).isEqualTo("hi\n||X=3");
            assertThat(ok("admin.vm.CurrentState", "", "work", "")).contains("power_state=Running");
            t0 = System.nanoTime();
            assertThat(qvmRun("work", "echo hi")).isEqualTo("hi\n||X=0");
            System.out.printf("QvmRunIT: qvm-run --pass-io work 'echo hi' on the running qube: %.0f ms%n",
                    (System.nanoTime() - t0) / 1e6);

            String start = call("admin.vm.Start", "", "broken", "");
            System.out.println("QvmRunIT: broken: " + start);
            assertThat(start).startsWith("2|QubesVMError|").contains("Cannot connect to qrexec agent for 5 seconds")
                    .contains("broken").contains("rolled back");
            assertThat(ok("admin.vm.CurrentState", "", "broken", "")).contains("power_state=Halted");
            assertThat(Dom0Host.domainExists("broken")).isFalse();
            assertThat(state.resolve("pool/appvms/broken/root-dirty.img")).doesNotExist();

            ok("admin.vm.Kill", "", "work", "");
            assertThat(qvmRunNoAutostart("work")).startsWith("F=QubesVMNotRunningError|Qube 'work' not started");
        }
    }

    /**
     * Starts compartd on libxl in this process, its state in {@code base/state-PID} and its socket
     * {@code base/qubesd.sock}, with {@code default_kernel} {@code guest} and the TemplateVM {@code tpl} whose qubes
     * have the feature {@code qrexec} (their starts wait for the agent).
     */
    static Compartd.Running withQrexecTemplate(Path base) throws Exception {
        Path socket = base.resolve("qubesd.sock");
        var compartd = new Compartd();
        new CommandLine(compartd).parseArgs("--hypervisor", "libxl", "--socket", socket.toString(), "--state-dir",
                base.resolve("state-" + ProcessHandle.current().pid()).toString());
        var daemon = compartd.start();
        assertThat(daemon.toolstack().qrexec()).isPresent();
        var admin = new AdminApiSocket(socket);
        admin.ok("admin.property.Set", "default_kernel", "dom0", "guest");
        admin.ok("admin.vm.Create.TemplateVM", "", "dom0", "name=tpl label=black");
        admin.ok("admin.vm.feature.Set", "qrexec", "tpl", "1");
        return daemon;
    }

    String qvmRunNoAutostart(String qube) throws Exception {
        var req = new ByteArrayOutputStream();
        req.writeBytes(("internal.vm.Run+ dom0 name " + qube + "\0").getBytes(StandardCharsets.US_ASCII));
        req.writeBytes(frame('R', "\0\0true".getBytes(StandardCharsets.UTF_8)));
        req.writeBytes(frame('0', new byte[0]));
        byte[] a = exchange(req.toByteArray(), false);
        return (char) a[0] + "=" + new String(a, 5, a.length - 5, StandardCharsets.UTF_8).replace('\0', '|');
    }
}
