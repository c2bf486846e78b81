package compart.core.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** ASCII text written into a volume's image (or block device file) at an offset and read back, as a guest would. */
public final class ImageText {
    private ImageText() {
    }

    /** Writes {@code text} at {@code offset} of {@code file} and syncs it to the disk. */
    public static void write(Path file, long offset, String text) throws IOException {
        try (var f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            f.write(text.getBytes(StandardCharsets.US_ASCII));
            f.getFD().sync();
        }
    }

    /** @return the {@code length} bytes at {@code offset} of {@code file}, as ASCII text */
    public static String read(Path file, long offset, int length) throws IOException {
        try (var f = new RandomAccessFile(file.toFile(), "r")) {
            var b = new byte[length];
            f.seek(offset);
            f.readFully(b);
            return new String(b, StandardCharsets.US_ASCII);
        }
    }
}
