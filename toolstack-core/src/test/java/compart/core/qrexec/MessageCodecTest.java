package compart.core.qrexec;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The wire bytes are written out by hand from the C structs of qrexec v3 ({@code msg_header}, {@code exec_params},
 * {@code trigger_service_params3}, {@code service_params}, {@code peer_info}) as an x86 peer sends them.
 */
class MessageCodecTest {
    private static final HexFormat HEX = HexFormat.of();

    private static byte[] hex(String s) {
        return HEX.parseHex(s.replace(" ", ""));
    }

    @Test
    void hello_version3_isTypeThreeHundredLenFourValueThree() {
        byte[] wire = hex("00030000 04000000 03000000");
        assertThat(MessageCodec.encode(new Message.Hello(3))).isEqualTo(wire);
        assertThat(MessageCodec.decode(wire)).isEqualTo(new Message.Hello(3));
    }

    @Test
    void execCmdline_carriesDomainPortAndNulTerminatedCommand() {
        // type 0x200, len 8+7, domain 0, port 513, "root:id\0"
        byte[] wire = hex("00020000 10000000 00000000 01020000 726f6f743a696400");
        var exec = new Message.Exec(Message.Exec.Kind.EXEC_CMDLINE, 0, 513, "root:id");
        assertThat(MessageCodec.encode(exec)).isEqualTo(wire);
        assertThat(MessageCodec.decode(wire)).isEqualTo(exec);
    }

    @Test
    void serviceConnect_identIsAThirtyTwoByteField() {
        var connect = new Message.Exec(Message.Exec.Kind.SERVICE_CONNECT, 7, 514, "SOCKET3");
        byte[] wire = MessageCodec.encode(connect);
        assertThat(wire).hasSize(8 + 8 + 32);
        assertThat(HEX.formatHex(wire, 0, 24)).isEqualTo("0202000028000000070000000202000053" + "4f434b45543300");
        assertThat(MessageCodec.decode(wire)).isEqualTo(connect);
    }

    @Test
    void triggerService3_targetIdentAndServiceName() {
        byte[] wire = new byte[8 + 64 + 32 + 16];
        byte[] head = hex("12020000 70000000");
        System.arraycopy(head, 0, wire, 0, 8);
        System.arraycopy("work".getBytes(), 0, wire, 8, 4);
        System.arraycopy("SOCKET5".getBytes(), 0, wire, 8 + 64, 7);
        System.arraycopy("test.Echo+hello".getBytes(), 0, wire, 8 + 96, 15);
        var trigger = new Message.TriggerService("work", "SOCKET5", "test.Echo+hello");
        assertThat(MessageCodec.decode(wire)).isEqualTo(trigger);
        assertThat(MessageCodec.encode(trigger)).isEqualTo(wire);
    }

    @Test
    void dataAndExitCode_roundTrip() {
        assertThat(MessageCodec.encode(new Message.Data(Message.Data.Stream.STDOUT, "hi\n".getBytes())))
                .isEqualTo(hex("91010000 03000000 68690a"));
        assertThat(MessageCodec.decode(hex("90010000 00000000")))
                .isEqualTo(new Message.Data(Message.Data.Stream.STDIN, new byte[0]));
        assertThat(MessageCodec.decode(hex("93010000 04000000 2a000000"))).isEqualTo(new Message.ExitCode(42));
        assertThat(MessageCodec.decode(hex("11020000 08000000 05000000 03020000")))
                .isEqualTo(new Message.ConnectionTerminated(5, 515));
    }

    @Test
    void refused_identRoundTrips() {
        var refused = new Message.ServiceRefused("SOCKET9");
        assertThat(MessageCodec.decode(MessageCodec.encode(refused))).isEqualTo(refused);
    }

    @Test
    void decode_unknownType_isProtocolError() {
        assertProtocol(hex("10020000 00000000"), "unknown message type 0x210");
    }

    @Test
    void decode_oversizedDataChunk_isRefusedFromTheHeaderAlone() {
        assertThatThrownBy(() -> MessageCodec.decodeHeader(hex("91010000 01000100")))
                .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.PROTOCOL))
                .hasMessageContaining("limit 65536");
    }

    @Test
    void decode_lengthAboveTwoGigabytes_isRefusedNotNegative() {
        assertProtocol(hex("91010000 ffffffff"), "limit");
    }

    @Test
    void triggerService4_sourceTargetIdentAndServiceName() {
        var trigger = new Message.TriggerService(4, "", "personal", "SOCKET5", "test.Echo+hi");
        byte[] wire = MessageCodec.encode(trigger);
        assertThat(wire).startsWith(hex("13020000 ad000000"));
        assertThat(wire).hasSize(8 + 64 + 64 + 32 + "test.Echo+hi".length() + 1);
        assertThat(new String(wire, 8 + 64, 8, StandardCharsets.US_ASCII)).isEqualTo("personal");
        assertThat(MessageCodec.decode(wire)).isEqualTo(trigger);
    }

    @Test
    void decode_triggerWithUnterminatedTarget_isCutAtItsLastByte_asQubesDaemonReadsIt() {
        byte[] wire = MessageCodec.encode(new Message.TriggerService("work", "ID", "test.Echo"));
        for (int i = 8; i < 8 + 64; i++) {
            wire[i] = 'a';
        }
        var t = (Message.TriggerService) MessageCodec.decode(wire);
        assertThat(t.untrustedTarget()).isEqualTo("a".repeat(63));
    }

    @Test
    void decode_triggerWithSlashInService_passesItOnUntrusted_forTheDaemonToClean() {
        byte[] wire = MessageCodec.encode(new Message.TriggerService("work", "ID", "test.Echo"));
        wire[8 + 96 + 4] = '/';
        var t = (Message.TriggerService) MessageCodec.decode(wire);
        assertThat(t.untrustedService()).isEqualTo("test/Echo");
        assertThat(QrexecDaemon.check("work", t).orElseThrow().service()).isEqualTo("test_Echo");
    }

    @Test
    void decode_triggerWithoutServiceName_isAProtocolError() {
        assertProtocol(Arrays.copyOf(hex("12020000 60000000"), 8 + 96), "has no service name");
    }

    @Test
    void decode_commandWithEmbeddedNul_isRefused() {
        byte[] wire = MessageCodec.encode(new Message.Exec(Message.Exec.Kind.EXEC_CMDLINE, 0, 513, "root:ab"));
        wire[wire.length - 2] = 0;
        assertProtocol(wire, "one NUL-terminated string");
    }

    @Test
    void decode_helloOfWrongSize_isRefused() {
        assertProtocol(hex("00030000 05000000 0300000000"), "limit");
        assertProtocol(hex("00030000 03000000 030000"), "hello of 3 bytes");
    }

    @Test
    void decode_headerLengthDisagreesWithBytes_isRefused() {
        assertProtocol(hex("91010000 05000000 6869"), "header says 5");
    }

    @Test
    void encode_identTooLongForItsField_isInvalidValue() {
        assertThatThrownBy(() -> MessageCodec.encode(new Message.ServiceRefused("x".repeat(33))))
                .isInstanceOfSatisfying(CompartException.class,
                        e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_VALUE));
    }

    private static void assertProtocol(byte[] wire, String message) {
        assertThatThrownBy(() -> MessageCodec.decode(wire))
                .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.PROTOCOL))
                .hasMessageContaining(message);
    }
}
