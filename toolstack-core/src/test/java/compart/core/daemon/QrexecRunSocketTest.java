package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.api.QrexecRun;
import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code internal.vm.Run} on the socket of a compartd on the simulated hypervisor: its domains have no qrexec
 * agent, so every run is refused with one failure frame saying so; bad requests are refused before that.
 */
class QrexecRunSocketTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(8192)
            .withTemplate("tpl", "black")
            .withAppVm("work", "tpl", "blue");
    final Wire admin = compartd.admin();

    static byte[] frame(byte type, byte[] data) {
        return ByteBuffer.allocate(5 + data.length).put(type).putInt(data.length).put(data).array();
    }

    byte[] run(String source, String qube, int flags, String user, String command) throws Exception {
        byte[] req = (((char) flags) + user + "\0" + command).getBytes(StandardCharsets.UTF_8);
        return runFrames(source, qube, frame(QrexecRun.REQUEST, req), frame(QrexecRun.STDIN, new byte[0]));
    }

    /** @return the answer to {@code internal.vm.Run} with these frames after the header */
    byte[] runFrames(String source, String qube, byte[]... frames) throws Exception {
        var payload = new ByteArrayOutputStream();
        for (byte[] f : frames) {
            payload.write(f);
        }
        return admin.raw("internal.vm.Run", "", source, qube, payload.toByteArray());
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
        assertThat(admin.call("admin.vm.CurrentState", "", "work", "")).contains("power_state=Halted");
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
        assertThat(failure(runFrames("dom0", "work"))).startsWith("ProtocolError|")
                .contains("closed before the request frame");
        byte[] huge = ByteBuffer.allocate(5).put(QrexecRun.REQUEST).putInt(1 << 30).array();
        assertThat(failure(runFrames("dom0", "work", huge))).startsWith("ProtocolError|").contains("at most 65536");
    }
}
