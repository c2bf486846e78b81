package compart.core.qubesdb;

import compart.core.qrexec.Link;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/** Test support: a {@link Link} over blocking channels (a pipe's two ends, or one socket for both). */
public record ChannelLink(ReadableByteChannel in, WritableByteChannel out) implements Link {
    @Override
    public int read(byte[] into, int offset, int length) {
        try {
            return in.read(ByteBuffer.wrap(into, offset, length));
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public void write(byte[] bytes) {
        try {
            var b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                out.write(b);
            }
        } catch (IOException e) {
            throw new CompartException(ErrorKind.PROTOCOL, "channel closed: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            in.close();
            out.close();
        } catch (IOException e) {
            // closed already, or by the peer: nothing left to release
        }
    }
}
