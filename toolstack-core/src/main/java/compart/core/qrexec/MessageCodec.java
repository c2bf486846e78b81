package compart.core.qrexec;

import compart.errors.CompartException;
import compart.errors.ErrorKind;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The qrexec wire format of protocol versions 3 (Qubes R4.1-R4.2) and 4 (R4.3, which adds
 * {@code MSG_TRIGGER_SERVICE4}): {@code struct msg_header {uint32 type; uint32 len;}} then {@code len} bytes, all
 * integers little-endian (x86, as the C structs are sent raw).
 *
 * <p>The decoder is the first trust boundary for bytes from a qube: it checks the type before the length, the
 * length against the type's fixed size or bound before allocating, fixed-size string fields for their NUL
 * terminator. A framing error is a {@link CompartException} of kind {@link ErrorKind#PROTOCOL} (Qubes' daemon
 * exits, dropping that qube's channel, on the same errors); it never throws another exception for any input. The
 * strings of a service trigger are passed on as sent: as in Qubes, their content is checked afterwards
 * ({@link QrexecDaemon}), and a bad name refuses that call only. Stateless and thread-safe.
 */
public final class MessageCodec {
    /** The highest protocol version this daemon speaks. */
    public static final int PROTOCOL_VERSION = 4;
    /** The lowest agent protocol version this daemon accepts (Qubes R4.1; version 2 is R4.0's). */
    public static final int MIN_PROTOCOL_VERSION = 3;
    /** Control vchan port (VCHAN_BASE_PORT); data ports are allocated above it. */
    public static final int CONTROL_PORT = 512;
    public static final int HEADER_SIZE = 8;
    /** Largest data chunk in version 3. */
    public static final int MAX_DATA_CHUNK = 65536;
    /** Largest command line of an exec request, without its NUL. */
    public static final int MAX_COMMAND = 65535;
    /** Largest service name (with argument) of a trigger, without its NUL. */
    public static final int MAX_SERVICE_NAME = 65000;
    static final int TARGET_FIELD = 64;
    static final int SOURCE_FIELD = 64;
    static final int IDENT_FIELD = 32;

    public static final int MSG_DATA_STDIN = 0x190;
    public static final int MSG_DATA_STDOUT = 0x191;
    public static final int MSG_DATA_STDERR = 0x192;
    public static final int MSG_DATA_EXIT_CODE = 0x193;
    public static final int MSG_EXEC_CMDLINE = 0x200;
    public static final int MSG_JUST_EXEC = 0x201;
    public static final int MSG_SERVICE_CONNECT = 0x202;
    public static final int MSG_SERVICE_REFUSED = 0x203;
    public static final int MSG_TRIGGER_SERVICE = 0x210;
    public static final int MSG_CONNECTION_TERMINATED = 0x211;
    public static final int MSG_TRIGGER_SERVICE3 = 0x212;
    public static final int MSG_TRIGGER_SERVICE4 = 0x213;
    public static final int MSG_HELLO = 0x300;

    private MessageCodec() {
    }

    /** @return the header and payload of {@code message} */
    public static byte[] encode(Message message) {
        byte[] payload = switch (message) {
            case Message.Hello h -> le(4).putInt(h.version()).array();
            case Message.Exec e -> {
                byte[] tail = e.kind() == Message.Exec.Kind.SERVICE_CONNECT
                        ? rawField(e.command(), IDENT_FIELD, "ident")
                        : nulTerminated(e.command(), MAX_COMMAND, "command");
                yield le(8 + tail.length).putInt(e.connectDomain()).putInt(e.connectPort()).put(tail).array();
            }
            case Message.ServiceRefused r -> rawField(r.ident(), IDENT_FIELD, "ident");
            case Message.TriggerService t -> {
                byte[] service = serviceField(t.untrustedService());
                byte[] source = t.protocol() == 4 ? rawField(t.untrustedSource(), SOURCE_FIELD, "source")
                        : new byte[0];
                yield le(source.length + TARGET_FIELD + IDENT_FIELD + service.length).put(source)
                        .put(rawField(t.untrustedTarget(), TARGET_FIELD, "target"))
                        .put(rawField(t.untrustedIdent(), IDENT_FIELD, "ident")).put(service).array();
            }
            case Message.ConnectionTerminated c -> le(8).putInt(c.domain()).putInt(c.port()).array();
            case Message.Data d -> {
                if (d.bytes().length > MAX_DATA_CHUNK) {
                    throw CompartException.invalidValue("qrexec data chunk of %d bytes exceeds %d",
                            d.bytes().length, MAX_DATA_CHUNK);
                }
                yield d.bytes();
            }
            case Message.ExitCode x -> le(4).putInt(x.code()).array();
        };
        return le(HEADER_SIZE + payload.length).putInt(message.type()).putInt(payload.length).put(payload).array();
    }

    /**
     * Checks a header: the type must be known and the length within what that type allows.
     *
     * @return the payload length
     */
    public static int checkHeader(int type, int untrustedLength) {
        long len = Integer.toUnsignedLong(untrustedLength);
        long max = switch (type) {
            case MSG_HELLO, MSG_DATA_EXIT_CODE -> 4;
            case MSG_DATA_STDIN, MSG_DATA_STDOUT, MSG_DATA_STDERR -> MAX_DATA_CHUNK;
            case MSG_EXEC_CMDLINE, MSG_JUST_EXEC -> 8 + MAX_COMMAND + 1;
            case MSG_SERVICE_CONNECT -> 8 + IDENT_FIELD;
            case MSG_SERVICE_REFUSED -> IDENT_FIELD;
            case MSG_CONNECTION_TERMINATED -> 8;
            case MSG_TRIGGER_SERVICE3 -> TARGET_FIELD + IDENT_FIELD + MAX_SERVICE_NAME;
            case MSG_TRIGGER_SERVICE4 -> SOURCE_FIELD + TARGET_FIELD + IDENT_FIELD + MAX_SERVICE_NAME;
            default -> throw protocol("unknown message type 0x%x", type);
        };
        if (len > max) {
            throw protocol("message type 0x%x with %d bytes, more than its limit %d", type, len, max);
        }
        return (int) len;
    }

    /** Decodes the header at the start of {@code header} (8 bytes): {@code {type, checked length}}. */
    public static int[] decodeHeader(byte[] header) {
        if (header.length < HEADER_SIZE) {
            throw protocol("short header: %d bytes", header.length);
        }
        ByteBuffer b = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.getInt();
        return new int[] {type, checkHeader(type, b.getInt())};
    }

    /** Decodes a whole message (header and payload). */
    public static Message decode(byte[] untrusted) {
        int[] h = decodeHeader(untrusted);
        if (untrusted.length - HEADER_SIZE != h[1]) {
            throw protocol("header says %d payload bytes, got %d", h[1], untrusted.length - HEADER_SIZE);
        }
        byte[] payload = new byte[h[1]];
        System.arraycopy(untrusted, HEADER_SIZE, payload, 0, payload.length);
        return decode(h[0], payload);
    }

    /** Decodes the payload of a message of {@code type} whose header {@link #checkHeader passed}. */
    public static Message decode(int type, byte[] untrusted) {
        checkHeader(type, untrusted.length);
        ByteBuffer b = ByteBuffer.wrap(untrusted).order(ByteOrder.LITTLE_ENDIAN);
        return switch (type) {
            case MSG_HELLO -> new Message.Hello(exactInt(b, "hello"));
            case MSG_DATA_EXIT_CODE -> new Message.ExitCode(exactInt(b, "exit code"));
            case MSG_DATA_STDIN -> new Message.Data(Message.Data.Stream.STDIN, untrusted);
            case MSG_DATA_STDOUT -> new Message.Data(Message.Data.Stream.STDOUT, untrusted);
            case MSG_DATA_STDERR -> new Message.Data(Message.Data.Stream.STDERR, untrusted);
            case MSG_EXEC_CMDLINE, MSG_JUST_EXEC -> {
                if (untrusted.length < 9) {
                    throw protocol("exec request of %d bytes has no command line", untrusted.length);
                }
                int domain = b.getInt();
                int port = b.getInt();
                String command = utf8(untrusted, 8, untrusted.length - 1 - 8, "command line");
                if (untrusted[untrusted.length - 1] != 0 || command.indexOf('\0') >= 0) {
                    throw protocol("command line is not one NUL-terminated string");
                }
                yield new Message.Exec(type == MSG_JUST_EXEC ? Message.Exec.Kind.JUST_EXEC
                        : Message.Exec.Kind.EXEC_CMDLINE, domain, port, command);
            }
            case MSG_SERVICE_CONNECT -> {
                if (untrusted.length != 8 + IDENT_FIELD) {
                    throw protocol("service connect of %d bytes, expected %d", untrusted.length, 8 + IDENT_FIELD);
                }
                yield new Message.Exec(Message.Exec.Kind.SERVICE_CONNECT, b.getInt(), b.getInt(),
                        ident(untrusted, 8));
            }
            case MSG_SERVICE_REFUSED -> {
                if (untrusted.length != IDENT_FIELD) {
                    throw protocol("service refused of %d bytes, expected %d", untrusted.length, IDENT_FIELD);
                }
                yield new Message.ServiceRefused(ident(untrusted, 0));
            }
            case MSG_CONNECTION_TERMINATED -> {
                if (untrusted.length != 8) {
                    throw protocol("connection terminated of %d bytes, expected 8", untrusted.length);
                }
                yield new Message.ConnectionTerminated(b.getInt(), b.getInt());
            }
            case MSG_TRIGGER_SERVICE3, MSG_TRIGGER_SERVICE4 -> {
                int source = type == MSG_TRIGGER_SERVICE4 ? SOURCE_FIELD : 0;
                int fixed = source + TARGET_FIELD + IDENT_FIELD;
                if (untrusted.length <= fixed) {
                    throw protocol("service trigger 0x%x of %d bytes has no service name", type, untrusted.length);
                }
                int protocolVersion = type == MSG_TRIGGER_SERVICE4 ? 4 : 3;
                yield new Message.TriggerService(protocolVersion, terminated(untrusted, 0, source),
                        terminated(untrusted, source, TARGET_FIELD), ident(untrusted, source + TARGET_FIELD),
                        serviceName(untrusted, fixed));
            }
            default -> throw protocol("unknown message type 0x%x", type);
        };
    }

    /** A fixed field as Qubes' daemon reads it: its last byte forced to NUL, then up to the first NUL. */
    private static String terminated(byte[] in, int offset, int size) {
        int end = offset;
        while (end < offset + size - 1 && in[end] != 0) {
            end++;
        }
        return new String(in, offset, end - offset, StandardCharsets.ISO_8859_1);
    }

    /** An ident field: all its bytes but the trailing NULs (a NUL left inside makes it invalid later). */
    private static String ident(byte[] in, int offset) {
        int end = offset + IDENT_FIELD;
        while (end > offset && in[end - 1] == 0) {
            end--;
        }
        return new String(in, offset, end - offset, StandardCharsets.ISO_8859_1);
    }

    /** The service name: without its final NUL; one without a final NUL keeps all bytes and gets a NUL added. */
    private static String serviceName(byte[] in, int offset) {
        boolean nul = in[in.length - 1] == 0;
        String s = new String(in, offset, in.length - offset - (nul ? 1 : 0), StandardCharsets.ISO_8859_1);
        return nul ? s : s + '\0';
    }

    private static int exactInt(ByteBuffer b, String what) {
        if (b.remaining() != 4) {
            throw protocol("%s of %d bytes, expected 4", what, b.remaining());
        }
        return b.getInt();
    }

    private static String utf8(byte[] in, int offset, int length, String what) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(in, offset, length)).toString();
        } catch (CharacterCodingException e) {
            throw protocol("%s is not valid UTF-8", what);
        }
    }

    /**
     * A trigger's service name as the decoder gave it: its bytes and a NUL, or without the NUL when the decoder
     * marked it unterminated (a trailing NUL character), so that decoding the result gives the same name again.
     */
    private static byte[] serviceField(String value) {
        boolean unterminated = value.endsWith("\0");
        String name = unterminated ? value.substring(0, value.length() - 1) : value;
        byte[] bytes = name.getBytes(StandardCharsets.ISO_8859_1);
        if (bytes.length > MAX_SERVICE_NAME || !new String(bytes, StandardCharsets.ISO_8859_1).equals(name)) {
            throw CompartException.invalidValue("qrexec service name must be at most %d single-byte characters",
                    MAX_SERVICE_NAME);
        }
        return unterminated ? bytes : Arrays.copyOf(bytes, bytes.length + 1);
    }

    /** A fixed field of the bytes of {@code value} (ISO-8859-1, as decoded), NUL-padded; at most {@code size}. */
    private static byte[] rawField(String value, int size, String what) {
        byte[] bytes = value.getBytes(StandardCharsets.ISO_8859_1);
        if (bytes.length > size || !new String(bytes, StandardCharsets.ISO_8859_1).equals(value)) {
            throw CompartException.invalidValue("qrexec %s must be at most %d single-byte characters", what, size);
        }
        return Arrays.copyOf(bytes, size);
    }

    private static byte[] nulTerminated(String value, int max, String what) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > max || value.indexOf('\0') >= 0) {
            throw CompartException.invalidValue("qrexec %s must be at most %d bytes without NUL", what, max);
        }
        byte[] out = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, out, 0, bytes.length);
        return out;
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    static CompartException protocol(String format, Object... args) {
        return new CompartException(ErrorKind.PROTOCOL, "qrexec: " + String.format(format, args));
    }
}
