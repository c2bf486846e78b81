package compart.core.qubesdb;

import compart.core.qrexec.Link;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Test support: two {@link Link}s joined by two kernel pipes (64 KiB each way, so a peer that stops reading
 * really blocks the writer), and a {@link QubesDbServer.Listener} that hands out the dom0 end of each pair the
 * test makes.
 */
final class PipeLinks implements QubesDbServer.Listener {
    private final BlockingQueue<Link> pending = new LinkedBlockingQueue<>();

    /** @return the qube's end of a new connection; the server gets the other end from {@link #listen()} */
    Link connect() {
        try {
            var toDom0 = Pipe.open();
            var toQube = Pipe.open();
            pending.add(new End(toDom0.source(), toQube.sink()));
            return new End(toQube.source(), toDom0.sink());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Link listen() {
        try {
            return pending.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompartException(ErrorKind.PROTOCOL, "listener interrupted");
        }
    }

    /** One end: reads from one pipe, writes to the other. */
    private record End(Pipe.SourceChannel in, Pipe.SinkChannel out) implements Link {
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
                throw new CompartException(ErrorKind.PROTOCOL, "pipe closed: " + e.getMessage());
            }
        }

        @Override
        public void close() {
            try {
                in.close();
                out.close();
            } catch (IOException e) {
                // closing twice or after the peer: nothing left to release
            }
        }
    }
}
