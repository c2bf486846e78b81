package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.daemon.Compartd;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * compartd with the libxl backend in dom0, driven over its Admin API socket like qubesadmin: a TemplateVM and an
 * AppVM on it; the AppVM starts as a PVH domain on the harness's guest kernel, booting on a snapshot of the
 * template's root with its private and volatile volumes attached; the guest reads its disks and powers off; the
 * daemon sees the death, stops the volumes (root changes gone, private changes kept), and a second run is shut
 * down through the API.
 */
class CoreLibxlIT {
    static final Path BASE = Path.of("/var/lib/compart-it/core");
    static final Path KERNELS = Path.of("/var/lib/qubes/vm-kernels");
    static final Duration BOOT = Duration.ofMinutes(8);

    Path socket;

    String call(String method, String arg, String dest, String payload) throws IOException {
        try (var ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            var b = ByteBuffer.wrap((method + "+" + arg + " dom0 name " + dest + "\0" + payload)
                    .getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.shutdownOutput();
            var out = new ByteArrayOutputStream();
            var buf = ByteBuffer.allocate(65536);
            while (ch.read(buf) >= 0) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            return out.toString(StandardCharsets.UTF_8).replace('\0', '|');
        }
    }

    String ok(String method, String arg, String dest, String payload) throws IOException {
        String r = call(method, arg, dest, payload);
        assertThat(r).as("%s+%s %s", method, arg, dest).startsWith("0|");
        return r.substring(2);
    }

    static void write(Path file, long offset, String text) throws IOException {
        try (var f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            f.write(text.getBytes(StandardCharsets.US_ASCII));
            f.getFD().sync();
        }
    }

    static String read(Path file, long offset, int n) throws IOException {
        try (var f = new RandomAccessFile(file.toFile(), "r")) {
            var b = new byte[n];
            f.seek(offset);
            f.readFully(b);
            return new String(b, StandardCharsets.US_ASCII);
        }
    }

    String awaitState(String qube, String state, Duration timeout) throws Exception {
        var deadline = Instant.now().plus(timeout);
        String last = "";
        while (Instant.now().isBefore(deadline)) {
            last = ok("admin.vm.CurrentState", "", qube, "");
            if (last.endsWith("power_state=" + state)) {
                return last;
            }
            Thread.sleep(500);
        }
        throw new AssertionError(qube + " did not become " + state + " within " + timeout + ": " + last);
    }

    static String awaitConsole(Path log, String line, Duration timeout) throws Exception {
        var deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            String text = XenHost.read(log);
            if (text.contains(line)) {
                return text;
            }
            Thread.sleep(1000);
        }
        throw new AssertionError("no '" + line + "' on " + log + " within " + timeout + ":\n" + XenHost.read(log));
    }

    @Test
    void compartdOnLibxl_startsAnAppVmAsPvhOnTheTemplateRootSnapshot_andStopsItsVolumesWhenItDies() throws Exception {
        Files.createDirectories(KERNELS.resolve("guest"));
        Files.copy(XenHost.guestKernel(), KERNELS.resolve("guest/vmlinuz"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(XenHost.guestInitrd(), KERNELS.resolve("guest/initramfs"), StandardCopyOption.REPLACE_EXISTING);
        try (var f = new RandomAccessFile(KERNELS.resolve("guest/modules.img").toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        Path state = BASE.resolve("state-" + ProcessHandle.current().pid());
        socket = BASE.resolve("qubesd.sock");
        var compartd = new Compartd();
        new CommandLine(compartd).parseArgs("--hypervisor", "libxl", "--socket", socket.toString(), "--state-dir",
                state.toString());
        Path console = Path.of("/var/log/xen/console/guest-work.log");
        Files.deleteIfExists(console);
        try (var daemon = compartd.start()) {
            assertThat(daemon.toolstack().hypervisor().name()).isEqualTo("libxl");
            ok("admin.property.Set", "default_kernel", "dom0", "guest");
            ok("admin.vm.Create.TemplateVM", "", "dom0", "name=tpl label=black");
            ok("admin.vm.Create.AppVM", "tpl", "dom0", "name=work label=blue");
            for (String q : List.of("tpl", "work")) {
                ok("admin.vm.property.Set", "memory", q, "256");
                ok("admin.vm.property.Set", "maxmem", q, "256");
                ok("admin.vm.property.Set", "vcpus", q, "1"); // 2 vCPUs on the host's single emulated CPU crawl
                ok("admin.vm.property.Set", "shutdown_timeout", q, "300");
            }
            Path pool = state.resolve("pool");
            write(pool.resolve("vm-templates/tpl/root.img"), 0, "COMPART-ROOT-MARK");
            write(pool.resolve("appvms/work/private.img"), 0, "COMPART-PRIVATE-MARK");

            ok("admin.vm.Start", "", "work", "");
            System.out.println("CoreLibxlIT: work started: " + ok("admin.vm.CurrentState", "", "work", ""));
            assertThat(ok("admin.vm.List", "", "work", "")).contains("state=Running");
            assertThat(XenHost.xl("list")).contains("work");
            Path root = pool.resolve("appvms/work/root-dirty.img");
            Path priv = pool.resolve("appvms/work/private-dirty.img");
            write(root, 1 << 20, "ROOT-CHANGE");
            write(priv, 1 << 20, "PRIVATE-CHANGE");

            String text = awaitConsole(console, "COMPART-GUEST: poweroff", BOOT);
            System.out.println("CoreLibxlIT: the guest powered off; its console:\n" + text);
            assertThat(text).contains("COMPART-GUEST: up type=PVH")
                    .containsPattern("devices block=\\[xvda xvdb xvdc xvdd \\]")
                    .contains("COMPART-GUEST: disk xvda: COMPART-ROOT-MARK")
                    .contains("COMPART-GUEST: disk xvdb: COMPART-PRIVATE-MARK");
            awaitState("work", "Halted", Duration.ofMinutes(2));
            System.out.println("CoreLibxlIT: work is Halted, its volumes stopped");
            assertThat(XenHost.domainExists("work")).isFalse();
            assertThat(root).doesNotExist();
            assertThat(read(pool.resolve("appvms/work/private.img"), 1 << 20, 14)).isEqualTo("PRIVATE-CHANGE");

            ok("admin.vm.Start", "", "work", "");
            assertThat(read(root, 1 << 20, 11)).isEqualTo("\0".repeat(11));
            assertThat(read(priv, 1 << 20, 14)).isEqualTo("PRIVATE-CHANGE");
            // the guest may power off on its own before it handles the request: either way it ends halted
            String shutdown = call("admin.vm.Shutdown", "wait", "work", "");
            System.out.println("CoreLibxlIT: second run, shutdown: " + shutdown);
            assertThat(shutdown).matches("0\\|.*|2\\|QubesVMNotStartedError\\|.*");
            awaitState("work", "Halted", Duration.ofMinutes(2));
            assertThat(XenHost.domainExists("work")).isFalse();
        } finally {
            Files.createDirectories(XenHost.out().resolve("guests"));
            Files.writeString(XenHost.out().resolve("guests/core-work.log"), XenHost.read(console));
        }
    }
}
