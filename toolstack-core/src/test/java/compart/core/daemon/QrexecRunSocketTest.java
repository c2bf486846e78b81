package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.api.QrexecRun;
import java.io.ByteArrayOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code internal.vm.Run} on the socket of a compartd on the simulated hypervisor: its domains have no qrexec
 * agent, so every run is refused with one failure frame saying so; bad requests are refused before that.
 */
class QrexecRunSocketTest {
    @TempDir
    Path dir;
    Compartd.Running daemon;
    Path socket;

    @BeforeEach
    void startDaemon() throws Exception {
        var d = new Compartd();
        socket = dir.resolve("qubesd.sock");
        d.socket = socket;
        d.stateDir = dir.resolve("state");
        d.hypervisor = "test";
        d.testMemoryMib = 8192;
        daemon = d.start();
        call("admin.vm.Create.TemplateVM+ dom0 name dom0\0name=tpl label=black");
        call("admin.vm.Create.AppVM+tpl dom0 name dom0\0name=work label=blue");
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    String call(String request) throws Exception {
        return new String(exchange(request.getBytes(StandardCharsets.US_ASCII)), StandardCharsets.UTF_8);
    }

    byte[] exchange(byte[] bytes) throws Exception {
        try (var ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            var b = ByteBuffer.wrap(bytes);
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
            return out.toByteArray();
        }
    }

    static byte[] frame(byte type, byte[] data) {
        return ByteBuffer.allocate(5 + data.length).put(type).putInt(data.length).put(data).array();
    }

    byte[] run(String source, String qube, int flags, String user, String command) throws Exception {
        byte[] head = ("internal.vm.Run+ " + source + " name " + qube + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] req = (((char) flags) + user + "\0" + command).getBytes(StandardCharsets.UTF_8);
        var all = new ByteArrayOutputStream();
        all.write(head);
        all.write(frame(QrexecRun.REQUEST, req));
        all.write(frame(QrexecRun.STDIN, new byte[0]));
        return exchange(all.toByteArray());
    }

    /** @return the single failure frame's "TYPE|MESSAGE" */
    static String failure(byte[] answer) {
        var b = ByteBuffer.wrap(answer);
        assertThat(b.get()).as("frame type").isEqualTo(QrexecRun.FAILURE);
        int n = b.getInt();
        assertThat(answer).hasSize(5 + n);
        return new String(answer, 5, n, StandardCharsets.UTF_8).replace('\0', '|');
    }

    @Test
    void runOnTheTestHypervisor_isRefused_sayingItsDomainsHaveNoQrexecAgent() throws Exception {
        String f = failure(run("dom0", "work", QrexecRun.AUTOSTART, "", "echo hi"));

        assertThat(f).startsWith("QubesVMError|").contains("test hypervisor").contains("no qrexec agent")
                .contains("work").contains("--hypervisor libxl");
        assertThat(call("admin.vm.CurrentState+ dom0 name work\0")).contains("power_state=Halted");
    }

    @Test
    void runFromAQube_isRefused_dom0Only() throws Exception {
        assertThat(failure(run("work", "work", 0, "", "id"))).startsWith("PermissionDenied|").contains("dom0 only");
    }

    @Test
    void runInAnUnknownQube_orInDom0_isRefused() throws Exception {
        assertThat(failure(run("dom0", "nosuch", 0, "", "id"))).startsWith("QubesVMNotFoundError|")
                .contains("nosuch");
        assertThat(failure(run("dom0", "dom0", 0, "", "id"))).startsWith("ProtocolError|").contains("AdminVM");
    }

    @Test
    void badRequestFrames_areRefusedAsProtocolOrValueErrors() throws Exception {
        assertThat(failure(run("dom0", "work", 8, "", "id"))).startsWith("ProtocolError|").contains("malformed");
        assertThat(failure(run("dom0", "work", 0, "bad:user", "id"))).startsWith("QubesValueError|")
                .contains("invalid user");
        assertThat(failure(run("dom0", "work", QrexecRun.SERVICE, "", "qubes.X Y"))).startsWith("QubesValueError|")
                .contains("invalid service name");
        assertThat(failure(exchange("internal.vm.Run+ dom0 name work\0".getBytes(StandardCharsets.US_ASCII))))
                .startsWith("ProtocolError|").contains("closed before the request frame");
        byte[] huge = ByteBuffer.allocate(5).put(QrexecRun.REQUEST).putInt(1 << 30).array();
        var bytes = new ByteArrayOutputStream();
        bytes.write("internal.vm.Run+ dom0 name work\0".getBytes(StandardCharsets.US_ASCII));
        bytes.write(huge);
        assertThat(failure(exchange(bytes.toByteArray()))).startsWith("ProtocolError|").contains("at most 65536");
    }
}
