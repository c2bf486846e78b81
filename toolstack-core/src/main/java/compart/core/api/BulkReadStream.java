package compart.core.api;

import java.io.IOException;
import java.io.InputStream;

/**
 * An input stream that reads only in blocks: its single-byte {@link #read()} is a {@link #read(byte[], int, int)} of
 * one byte, so a subclass (a client's stdin frames, a socket channel's remaining bytes) writes the block read alone.
 */
public abstract class BulkReadStream extends InputStream {
    @Override
    public final int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public abstract int read(byte[] b, int off, int len) throws IOException;
}
