package compart.core.backup;

import compart.errors.CompartException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes tar headers: POSIX ustar, with a pax extended header carrying {@code size} when a file is 8 GiB or more.
 * The outer archive of a backup and each inner archive of a file use these. Stateless.
 */
final class TarBlocks {

    static final int BLOCK = 512;
    /** GNU tar's record: {@code tar -c} pads each archive it writes to a multiple of this. */
    static final int RECORD = 10240;
    private static final long USTAR_MAX_SIZE = 077777777777L;

    private TarBlocks() {
    }

    /**
     * One regular file's header block(s), for a file of {@code size} bytes named {@code name}.
     *
     * @throws CompartException INVALID_VALUE when the name does not fit ustar's 100 bytes
     */
    static byte[] fileHeader(String name, long size, long mtimeSeconds) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        if (nameBytes.length > 100) {
            throw CompartException.invalidValue("backup file name %s is longer than 100 bytes", name);
        }
        if (size > USTAR_MAX_SIZE) {
            String record = paxRecord("size", Long.toString(size));
            byte[] recordBytes = record.getBytes(StandardCharsets.UTF_8);
            byte[] x = header(("PaxHeaders/" + name).substring(0, Math.min(100, 11 + name.length())),
                    recordBytes.length, 'x', mtimeSeconds);
            byte[] out = new byte[x.length + padded(recordBytes.length) + BLOCK];
            System.arraycopy(x, 0, out, 0, BLOCK);
            System.arraycopy(recordBytes, 0, out, BLOCK, recordBytes.length);
            System.arraycopy(header(name, 0, '0', mtimeSeconds), 0, out, BLOCK + padded(recordBytes.length), BLOCK);
            return out;
        }
        return header(name, size, '0', mtimeSeconds);
    }

    /** The bytes to add after {@code size} bytes of data to reach a block boundary. */
    static int padding(long size) {
        return (int) ((BLOCK - size % BLOCK) % BLOCK);
    }

    static int padded(long size) {
        return (int) (size + padding(size));
    }

    /** Writes the end of an archive (two zero blocks) and pads what was written to a whole record. */
    static void endArchive(OutputStream out, long writtenSoFar) throws IOException {
        long total = writtenSoFar + 2L * BLOCK;
        long pad = (RECORD - total % RECORD) % RECORD;
        out.write(new byte[(int) (2L * BLOCK + pad)]);
    }

    private static String paxRecord(String key, String value) {
        String body = " " + key + "=" + value + "\n";
        int len = body.length();
        int total = len + Integer.toString(len).length();
        if (Integer.toString(total).length() != Integer.toString(len).length()) {
            total++;
        }
        return total + body;
    }

    private static byte[] header(String name, long size, char type, long mtime) {
        byte[] h = new byte[BLOCK];
        put(h, 0, 100, name.getBytes(StandardCharsets.UTF_8));
        octal(h, 100, 8, 0644);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, size);
        octal(h, 136, 12, mtime);
        h[156] = (byte) type;
        put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
        put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
        put(h, 265, 32, "root".getBytes(StandardCharsets.US_ASCII));
        put(h, 297, 32, "root".getBytes(StandardCharsets.US_ASCII));
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        byte[] chk = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(chk, 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
        return h;
    }

    private static void put(byte[] h, int off, int len, byte[] value) {
        System.arraycopy(value, 0, h, off, Math.min(len, value.length));
    }

    private static void octal(byte[] h, int off, int len, long value) {
        String s = String.format("%0" + (len - 1) + "o", value);
        put(h, off, len - 1, s.getBytes(StandardCharsets.US_ASCII));
        h[off + len - 1] = 0;
    }
}
