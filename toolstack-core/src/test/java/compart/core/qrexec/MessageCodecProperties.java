package compart.core.qrexec;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;

/** Fuzzing of the decoder: whatever a qube sends, the only failure is a PROTOCOL CompartException. */
class MessageCodecProperties {
    private static final int[] TYPES = {0x190, 0x191, 0x192, 0x193, 0x200, 0x201, 0x202, 0x203, 0x210, 0x211, 0x212,
            0x213, 0x300};

    @Property(tries = 3000)
    void decode_randomBytes_onlyEverProtocolErrors(@ForAll @Size(max = 300) byte[] bytes) {
        decodeOrProtocolError(bytes);
    }

    @Property(tries = 3000)
    void decode_knownTypeWithRandomPayload_onlyEverProtocolErrors(@ForAll("types") int type,
                                                                  @ForAll @Size(max = 300) byte[] payload) {
        byte[] wire = ByteBuffer.allocate(8 + payload.length).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(type).putInt(payload.length).put(payload).array();
        decodeOrProtocolError(wire);
    }

    @Property(tries = 1000)
    void decode_mutatedValidTrigger_onlyEverProtocolErrors(@ForAll("triggers") byte[] wire,
                                                            @ForAll int position, @ForAll byte value) {
        wire[Math.floorMod(position, wire.length)] = value;
        decodeOrProtocolError(wire);
    }

    @Property(tries = 500)
    void trigger_roundTrips(@ForAll("names") String target, @ForAll("names") String service) {
        var t = new Message.TriggerService(target, "SOCKET1", service);
        assertThat(MessageCodec.decode(MessageCodec.encode(t))).isEqualTo(t);
    }

    @Provide
    Arbitrary<Integer> types() {
        return Arbitraries.of(TYPES[0], TYPES[1], TYPES[2], TYPES[3], TYPES[4], TYPES[5], TYPES[6], TYPES[7],
                TYPES[8], TYPES[9], TYPES[10], TYPES[11], TYPES[12]);
    }

    @Provide
    Arbitrary<String> names() {
        return Arbitraries.strings().withChars("abcXYZ019_-.+:@").ofMinLength(1).ofMaxLength(31);
    }

    @Provide
    Arbitrary<byte[]> triggers() {
        return names().map(n -> MessageCodec.encode(new Message.TriggerService(n, "SOCKET1", "test.Echo+" + n)));
    }

    private static void decodeOrProtocolError(byte[] wire) {
        try {
            Message m = MessageCodec.decode(wire);
            assertThat(MessageCodec.decode(MessageCodec.encode(m))).isEqualTo(m);
        } catch (CompartException e) {
            assertThat(e.kind()).isEqualTo(ErrorKind.PROTOCOL);
        }
    }
}
