package compart.xenhost;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Reads a newc cpio archive back, independently of {@link CpioArchive}, checking the 4-byte alignment. */
final class NewcReader {
    private NewcReader() {}

    record Entry(String name, int mode, int rdevMajor, int rdevMinor, byte[] data) {
        int type() {
            return mode & 0170000;
        }

        int permissions() {
            return mode & 07777;
        }
    }

    static List<Entry> read(byte[] archive) {
        var entries = new ArrayList<Entry>();
        int at = 0;
        while (true) {
            if (at % 4 != 0) {
                throw new AssertionError("header not 4-byte aligned at " + at);
            }
            String magic = new String(archive, at, 6, StandardCharsets.US_ASCII);
            if (!magic.equals("070701")) {
                throw new AssertionError("bad magic '" + magic + "' at " + at);
            }
            long[] field = new long[13];
            for (int i = 0; i < 13; i++) {
                field[i] = Long.parseLong(new String(archive, at + 6 + 8 * i, 8, StandardCharsets.US_ASCII), 16);
            }
            int nameSize = (int) field[11];
            String name = new String(archive, at + 110, nameSize - 1, StandardCharsets.UTF_8);
            if (archive[at + 110 + nameSize - 1] != 0) {
                throw new AssertionError("name of " + name + " not NUL-terminated");
            }
            int dataAt = align(at + 110 + nameSize);
            int size = (int) field[6];
            if (name.equals("TRAILER!!!")) {
                return entries;
            }
            entries.add(new Entry(name, (int) field[1], (int) field[9], (int) field[10],
                    Arrays.copyOfRange(archive, dataAt, dataAt + size)));
            at = align(dataAt + size);
        }
    }

    private static int align(int n) {
        return (n + 3) & ~3;
    }
}
