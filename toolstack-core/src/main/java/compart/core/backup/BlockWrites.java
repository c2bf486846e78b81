package compart.core.backup;

import java.io.IOException;
import java.io.OutputStream;

/** An output stream that writes in blocks: the one-byte {@code write(int)} goes through the block write. */
abstract class BlockWrites extends OutputStream {

    @Override
    public final void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public abstract void write(byte[] b, int off, int len) throws IOException;
}
