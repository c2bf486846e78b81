package compart.core.qubesdb;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The bytes of QubesDB messages: a 72-byte header ({@code struct qdb_hdr} on x86: the type in byte 0, the path
 * NUL-terminated in bytes 1-64, three bytes of padding, the data length as a little-endian uint32 at 68), then
 * the data. Pure; {@code QdbHeaderLayoutTest} checks the layout against the upstream header with gcc.
 */
public final class QdbCodec {
    /** {@code QDB_MAX_PATH}: the size of the path field, NUL included. */
    public static final int MAX_PATH = 64;
    /** {@code QDB_MAX_DATA}: data lengths must stay below it. */
    public static final int MAX_DATA = 3072;
    /** The largest data length a daemon accepts ({@code data_len >= QDB_MAX_DATA} is refused). */
    public static final int MAX_DATA_LEN = MAX_DATA - 1;
    /** {@code sizeof(struct qdb_hdr)}. */
    public static final int HEADER_SIZE = 72;
    /** {@code offsetof(struct qdb_hdr, path)}. */
    public static final int PATH_OFFSET = 1;
    /** {@code offsetof(struct qdb_hdr, data_len)}. */
    public static final int DATA_LEN_OFFSET = 68;

    private QdbCodec() {
    }

    /**
     * A header that passed upstream's checks for the vchan: a type valid there, a valid path, a data length
     * below {@link #MAX_DATA}.
     *
     * @param type    the message type
     * @param path    the path (NUL-terminated in the field; the 64th byte is ignored, as upstream forces it to NUL)
     * @param dataLen how many data bytes follow
     */
    public record Header(QdbType type, String path, int dataLen) {
    }

    /** @return the message's bytes: header then data */
    public static byte[] encode(QdbMessage message) {
        byte[] data = message.data();
        var b = ByteBuffer.allocate(HEADER_SIZE + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, (byte) message.type().code());
        b.put(PATH_OFFSET, message.path().getBytes(StandardCharsets.US_ASCII));
        b.putInt(DATA_LEN_OFFSET, data.length);
        b.put(HEADER_SIZE, data);
        return b.array();
    }

    /**
     * Decodes and checks a header received over the vchan.
     *
     * @param untrusted at least {@link #HEADER_SIZE} bytes from {@code offset}
     * @return the checked header
     * @throws CompartException PROTOCOL for a type not valid on the vchan, a bad path or a data length of
     *                          {@link #MAX_DATA} or more (upstream drops the connection for each)
     */
    public static Header decodeHeader(byte[] untrusted, int offset) {
        var b = ByteBuffer.wrap(untrusted, offset, HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        int untrustedType = b.get(offset) & 0xff;
        var type = QdbType.of(untrustedType).filter(QdbType::validOnVchan).orElseThrow(() ->
                new CompartException(ErrorKind.PROTOCOL, "qubesdb: message type " + untrustedType
                        + " is not valid between daemons"));
        int end = 0;
        while (end < MAX_PATH - 1 && untrusted[offset + PATH_OFFSET + end] != 0) {
            end++;
        }
        var untrustedPath = new String(untrusted, offset + PATH_OFFSET, end, StandardCharsets.ISO_8859_1);
        var path = QdbPath.check(untrustedPath);
        long untrustedLen = Integer.toUnsignedLong(b.getInt(offset + DATA_LEN_OFFSET));
        if (untrustedLen > MAX_DATA_LEN) {
            throw new CompartException(ErrorKind.PROTOCOL, "qubesdb: " + type + " " + path + " announces "
                    + untrustedLen + " bytes of data, more than " + MAX_DATA_LEN);
        }
        return new Header(type, path, (int) untrustedLen);
    }

    /** @return whether upstream accepts these bytes as a value: no NUL byte */
    public static boolean dataValid(byte[] untrusted) {
        for (byte x : untrusted) {
            if (x == 0) {
                return false;
            }
        }
        return untrusted.length <= MAX_DATA_LEN;
    }

    /** @throws CompartException INVALID_VALUE unless {@link #dataValid} */
    static void checkData(byte[] data) {
        if (!dataValid(data)) {
            throw CompartException.invalidValue("qubesdb: a value must be at most %d bytes without a NUL byte, got %d"
                    + " bytes", MAX_DATA_LEN, data.length);
        }
    }
}
