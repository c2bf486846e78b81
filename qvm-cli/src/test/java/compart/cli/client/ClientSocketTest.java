package compart.cli.client;

import static compart.cli.client.RecordingPeer.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.ByteArrayInputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client side of the qubesd wire protocol, against a real unix socket. */
class ClientSocketTest {
    @TempDir
    Path dir;

    @Test
    void call_sendsQubesdHeaderThenPayload_andHalfClosesBeforeReading() throws Exception {
        try (var peer = new RecordingPeer(dir, List.of(bytes("0\0")))) {
            Reply r = new AdminSocket(peer.path).call("work", "admin.vm.property.Set", "netvm",
                    bytes("sys-firewall"));

            assertThat(r).isInstanceOf(Reply.Ok.class);
            assertThat(((Reply.Ok) r).payload()).isEmpty();
            assertThat(new String(peer.requests.getFirst(), StandardCharsets.UTF_8))
                    .isEqualTo("admin.vm.property.Set+netvm dom0 name work\0sys-firewall");
        }
    }

    @Test
    void call_withoutArgumentOrPayload_sendsEmptyArgumentAfterPlus() throws Exception {
        try (var peer = new RecordingPeer(dir, List.of(bytes("0\0dom0 class=AdminVM state=Running\n")))) {
            String text = new AdminSocket(peer.path).call("dom0", "admin.vm.List", null, null).text();

            assertThat(text).isEqualTo("dom0 class=AdminVM state=Running\n");
            assertThat(new String(peer.requests.getFirst(), StandardCharsets.US_ASCII))
                    .isEqualTo("admin.vm.List+ dom0 name dom0\0");
        }
    }

    @Test
    void errorAnswer_becomesFailureWithTypeAndMessage() throws Exception {
        try (var peer = new RecordingPeer(dir, List.of(bytes("2\0QubesVMNotFoundError\0\0No such domain: 'nope'\0")))) {
            Reply r = new AdminSocket(peer.path).call("nope", "admin.vm.Start", null, null);

            assertThat(r).isEqualTo(new Reply.Failure("QubesVMNotFoundError", "No such domain: 'nope'", ""));
            assertThatThrownBy(r::orThrow).isInstanceOfSatisfying(CompartException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND);
                assertThat(e.getMessage()).isEqualTo("No such domain: 'nope'");
            });
        }
    }

    @Test
    void errorAnswer_withArguments_appliesThemToThePythonFormat() {
        Reply r = AdminSocket.parse(bytes("2\0QubesException\0trace\0Failed to add pool %s: %s (%d%%)\0p1\0bad\0"
                + "5\0"));

        assertThat(r).isEqualTo(new Reply.Failure("QubesException", "Failed to add pool p1: bad (5%)", "trace"));
    }

    @Test
    void failureKinds_followQubesExceptionNames() {
        assertThat(new Reply.Failure("QubesNoSuchPropertyError", "x", "").kind()).isEqualTo(ErrorKind.NOT_FOUND);
        assertThat(new Reply.Failure("QubesVMAlreadyExistsError", "x", "").kind())
                .isEqualTo(ErrorKind.ALREADY_EXISTS);
        assertThat(new Reply.Failure("QubesPropertyValueError", "x", "").kind()).isEqualTo(ErrorKind.INVALID_VALUE);
        assertThat(new Reply.Failure("QubesVMNotHaltedError", "x", "").kind()).isEqualTo(ErrorKind.INVALID_STATE);
        assertThat(new Reply.Failure("PermissionDenied", "", "").kind()).isEqualTo(ErrorKind.PERMISSION_DENIED);
        assertThat(new Reply.Failure("QubesVolumeRevisionNotFoundError", "", "").kind())
                .isEqualTo(ErrorKind.NOT_FOUND);
    }

    @Test
    void emptyOrUnknownAnswer_isAProtocolError() {
        assertThatThrownBy(() -> AdminSocket.parse(new byte[0])).isInstanceOfSatisfying(CompartException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.PROTOCOL));
        assertThatThrownBy(() -> AdminSocket.parse(bytes("HTTP/1.1 400"))).isInstanceOfSatisfying(
                CompartException.class, e -> assertThat(e.getMessage()).contains("unknown type"));
    }

    @Test
    void missingSocket_saysSoAndHowToStartTheDaemon() {
        Path absent = dir.resolve("absent.sock");

        assertThatThrownBy(() -> new AdminSocket(absent).call("dom0", "admin.vm.List", null, null))
                .isInstanceOfSatisfying(CompartException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND);
                    assertThat(e.getMessage()).startsWith("cannot reach compartd: no socket at " + absent)
                            .contains("bin/compartd --hypervisor test").contains("systemctl start compartd")
                            .doesNotContain("\n");
                });
    }

    @Test
    void staleSocket_saysConnectionRefused() throws Exception {
        Path stale = dir.resolve("stale.sock");
        try (var server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(stale));
        } // closed: the file stays, nobody listens

        assertThatThrownBy(() -> new AdminSocket(stale).call("dom0", "admin.vm.List", null, null))
                .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.getMessage())
                        .startsWith("cannot reach compartd: connection refused on " + stale)
                        .contains("bin/compartd --hypervisor test"));
    }

    @Test
    void header_refusesWhatQubesdCouldNotFrame() {
        assertThatThrownBy(() -> AdminSocket.header("my qube", "admin.vm.Start", null))
                .isInstanceOfSatisfying(CompartException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_VALUE);
                    assertThat(e.getMessage()).contains("'my qube'");
                });
        assertThatThrownBy(() -> AdminSocket.header("work", "admin.vm.feature.Get", "a\0b"))
                .isInstanceOf(CompartException.class);
    }

    @Test
    void stream_sendsHeadAndWholeBody_reportingProgress() throws Exception {
        byte[] body = new byte[3 * (1 << 20) + 17];
        Arrays.fill(body, (byte) 7);
        try (var peer = new RecordingPeer(dir, List.of(bytes("0\0")))) {
            var sent = new AtomicLong();
            new AdminSocket(peer.path).stream("work", "admin.vm.volume.ImportWithSize", "private",
                    bytes(body.length + "\n"), new ByteArrayInputStream(body), sent::set).orThrow();

            byte[] request = peer.requests.getFirst();
            String head = "admin.vm.volume.ImportWithSize+private dom0 name work\0" + body.length + "\n";
            assertThat(request).hasSize(head.length() + body.length);
            assertThat(new String(request, 0, head.length(), StandardCharsets.US_ASCII)).isEqualTo(head);
            assertThat(sent.get()).isEqualTo(body.length);
        }
    }
}
