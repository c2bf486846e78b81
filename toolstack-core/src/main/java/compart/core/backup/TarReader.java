package compart.core.backup;

import compart.core.api.BulkReadStream;
import compart.errors.CompartException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a tar stream entry by entry, never holding an entry's data: ustar and GNU headers, pax extended headers
 * ({@code path}, {@code size}, GNU sparse 1.0), GNU long names and old GNU sparse files, as GNU tar and Qubes'
 * {@code tarwriter} produce them. Every field is untrusted and checked. Not thread-safe.
 */
final class TarReader {

    private static final int MAX_EXTENDED = 64 * 1024;

    private final InputStream in;
    private final boolean ignoreZeros;
    private final String what;
    private long remaining;
    private int pendingPadding;
    private boolean ended;

    /**
     * @param in the archive
     * @param ignoreZeros whether zero blocks are skipped ({@code tar -i}: the outer archive of a backup is one
     *        archive per file, back to back) rather than ending the archive
     * @param what names the archive in messages
     */
    TarReader(InputStream in, boolean ignoreZeros, String what) {
        this.in = in;
        this.ignoreZeros = ignoreZeros;
        this.what = what;
    }

    /**
     * The next entry, its data then readable through {@link #data()}; {@code null} at the end of the archive.
     *
     * @throws CompartException INVALID_VALUE for a malformed or truncated archive
     */
    TarEntry next() throws IOException {
        skip(remaining + pendingPadding);
        remaining = 0;
        pendingPadding = 0;
        if (ended) {
            return null;
        }
        Map<String, String> pax = new HashMap<>();
        String longName = null;
        while (true) {
            byte[] h = in.readNBytes(TarBlocks.BLOCK);
            if (h.length == 0 && ignoreZeros) {
                ended = true;
                return null;
            }
            if (h.length < TarBlocks.BLOCK) {
                throw malformed("ends inside a header (truncated)");
            }
            if (allZero(h)) {
                if (ignoreZeros) {
                    continue;
                }
                ended = true;
                return null;
            }
            checkChecksum(h);
            char type = (char) (h[156] & 0xff);
            long size = number(h, 124, 12);
            switch (type) {
                case 'x' -> pax.putAll(paxRecords(readSmall(size)));
                case 'g' -> readSmall(size);
                case 'L' -> longName = cString(readSmall(size), 0, (int) size);
                default -> {
                    return entry(h, type, size, pax, longName);
                }
            }
        }
    }

    /** The current entry's stored data; reading past it returns end of stream. */
    InputStream data() {
        return new BulkReadStream() {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (remaining == 0) {
                    return -1;
                }
                int n = in.read(b, off, (int) Math.min(len, remaining));
                if (n < 0) {
                    throw malformed("ends inside a file's data (truncated)");
                }
                remaining -= n;
                return n;
            }
        };
    }

    /**
     * Writes the current entry's content as extracted: for a sparse file, its segments with the holes as zeros.
     *
     * @return the bytes written (the entry's real size)
     */
    long extract(TarEntry entry, OutputStream out) throws IOException {
        InputStream data = data();
        List<long[]> segments = entry.sparse();
        long consumed = 0;
        if (entry.sparseMapInData()) {
            SparseMap map = readSparseMap(data);
            segments = map.segments();
            consumed = map.bytes();
        }
        if (segments.isEmpty() && entry.sparse().isEmpty() && !entry.sparseMapInData()) {
            return data.transferTo(out);
        }
        long position = 0;
        for (long[] s : segments) {
            if (s[0] < position || s[1] < 0 || s[0] + s[1] > entry.realSize()) {
                throw malformed("has a sparse map out of order or beyond the file's size (" + entry.name() + ")");
            }
            zeros(out, s[0] - position);
            copy(data, out, s[1]);
            consumed += s[1];
            position = s[0] + s[1];
        }
        if (consumed != entry.storedSize()) {
            throw malformed("has a sparse map that does not match its data (" + entry.name() + ")");
        }
        zeros(out, entry.realSize() - position);
        return entry.realSize();
    }

    private record SparseMap(List<long[]> segments, long bytes) {
    }

    private SparseMap readSparseMap(InputStream data) throws IOException {
        long[] read = {0};
        long count = decimalLine(data, read);
        if (count < 0 || count > 1_000_000) {
            throw malformed("has a sparse map of " + count + " entries");
        }
        List<long[]> segments = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            segments.add(new long[] {decimalLine(data, read), decimalLine(data, read)});
        }
        long pad = TarBlocks.padding(read[0]);
        copy(data, OutputStream.nullOutputStream(), pad);
        return new SparseMap(segments, read[0] + pad);
    }

    private long decimalLine(InputStream data, long[] read) throws IOException {
        long v = 0;
        int digits = 0;
        while (true) {
            int c = data.read();
            read[0]++;
            if (c == '\n' && digits > 0) {
                return v;
            }
            if (c < '0' || c > '9' || digits >= 18) {
                throw malformed("has a malformed sparse map");
            }
            v = v * 10 + (c - '0');
            digits++;
        }
    }

    private TarEntry entry(byte[] h, char type, long size, Map<String, String> pax, String longName)
            throws IOException {
        String name = longName != null ? longName : cString(h, 0, 100);
        if (longName == null && h[257] == 'u' && h[345] != 0) {
            name = cString(h, 345, 155) + "/" + name;
        }
        name = pax.getOrDefault("path", name);
        if (pax.containsKey("size")) {
            size = paxNumber(pax.get("size"));
        }
        remaining = size;
        pendingPadding = TarBlocks.padding(size);
        if ("1".equals(pax.get("GNU.sparse.major")) && "0".equals(pax.get("GNU.sparse.minor"))) {
            return new TarEntry(pax.getOrDefault("GNU.sparse.name", name), '0', size,
                    paxNumber(pax.getOrDefault("GNU.sparse.realsize", "-1")), List.of(), true);
        }
        if (type == 'S') {
            return oldGnuSparse(h, name, size);
        }
        return new TarEntry(name, type, size, size, List.of(), false);
    }

    private TarEntry oldGnuSparse(byte[] h, String name, long size) throws IOException {
        List<long[]> segments = new ArrayList<>();
        addSegments(h, 386, 4, segments);
        boolean extended = h[482] != 0;
        long realSize = number(h, 483, 12);
        while (extended) {
            byte[] x = in.readNBytes(TarBlocks.BLOCK);
            if (x.length < TarBlocks.BLOCK) {
                throw malformed("ends inside a sparse header (truncated)");
            }
            addSegments(x, 0, 21, segments);
            extended = x[504] != 0;
            if (segments.size() > 1_000_000) {
                throw malformed("has too many sparse segments");
            }
        }
        return new TarEntry(name, 'S', size, realSize, segments, false);
    }

    private void addSegments(byte[] b, int off, int count, List<long[]> segments) {
        for (int i = 0; i < count; i++) {
            int at = off + i * 24;
            if (b[at] == 0) {
                return;
            }
            segments.add(new long[] {number(b, at, 12), number(b, at + 12, 12)});
        }
    }

    private byte[] readSmall(long size) throws IOException {
        if (size < 0 || size > MAX_EXTENDED) {
            throw malformed("has an extended header of " + size + " bytes");
        }
        byte[] data = in.readNBytes((int) size);
        byte[] pad = in.readNBytes(TarBlocks.padding(size));
        if (data.length < size || pad.length < TarBlocks.padding(size)) {
            throw malformed("ends inside an extended header (truncated)");
        }
        return data;
    }

    private Map<String, String> paxRecords(byte[] data) {
        Map<String, String> records = new HashMap<>();
        int at = 0;
        while (at < data.length) {
            int space = indexOf(data, (byte) ' ', at);
            if (space < 0) {
                throw malformed("has a malformed pax header");
            }
            int length;
            try {
                length = Integer.parseInt(new String(data, at, space - at, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw malformed("has a malformed pax header");
            }
            if (length <= space - at || at + length > data.length || data[at + length - 1] != '\n') {
                throw malformed("has a malformed pax header");
            }
            String record = new String(data, space + 1, at + length - space - 2, StandardCharsets.UTF_8);
            int eq = record.indexOf('=');
            if (eq < 0) {
                throw malformed("has a malformed pax header");
            }
            records.put(record.substring(0, eq), record.substring(eq + 1));
            at += length;
        }
        return records;
    }

    private long paxNumber(String s) {
        try {
            long v = Long.parseLong(s);
            if (v < 0) {
                throw malformed("has a negative size");
            }
            return v;
        } catch (NumberFormatException e) {
            throw malformed("has a malformed number in a pax header");
        }
    }

    private void checkChecksum(byte[] h) {
        long expected = number(h, 148, 8);
        long sum = 0;
        for (int i = 0; i < h.length; i++) {
            sum += i >= 148 && i < 156 ? ' ' : h[i] & 0xff;
        }
        if (sum != expected) {
            throw malformed("has a header with a wrong checksum (corrupted)");
        }
    }

    private long number(byte[] h, int off, int len) {
        if ((h[off] & 0x80) != 0) {
            long v = h[off] & 0x3f;
            for (int i = off + 1; i < off + len; i++) {
                if (v > (Long.MAX_VALUE >> 8)) {
                    throw malformed("has a number out of range");
                }
                v = (v << 8) | (h[i] & 0xff);
            }
            return v;
        }
        long v = 0;
        int i = off;
        while (i < off + len && h[i] == ' ') {
            i++;
        }
        for (; i < off + len; i++) {
            byte c = h[i];
            if (c == 0 || c == ' ') {
                break;
            }
            if (c < '0' || c > '7' || v > (Long.MAX_VALUE >> 3)) {
                throw malformed("has a malformed number in a header");
            }
            v = (v << 3) | (c - '0');
        }
        return v;
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static int indexOf(byte[] b, byte c, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }

    private static boolean allZero(byte[] h) {
        for (byte b : h) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private void skip(long n) throws IOException {
        copy(in, OutputStream.nullOutputStream(), n);
    }

    private void copy(InputStream from, OutputStream to, long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(1 << 16, Math.max(n, 1))];
        while (n > 0) {
            int r = from.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) {
                throw malformed("ends inside a file's data (truncated)");
            }
            to.write(buf, 0, r);
            n -= r;
        }
    }

    private static void zeros(OutputStream out, long n) throws IOException {
        byte[] z = new byte[(int) Math.min(1 << 16, Math.max(n, 1))];
        while (n > 0) {
            int k = (int) Math.min(z.length, n);
            out.write(z, 0, k);
            n -= k;
        }
    }

    private CompartException malformed(String detail) {
        return CompartException.invalidValue("%s %s", what, detail);
    }
}
