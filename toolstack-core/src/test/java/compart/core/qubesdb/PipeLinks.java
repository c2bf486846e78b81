package compart.core.qubesdb;

import compart.core.qrexec.Link;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
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
            pending.add(new ChannelLink(toDom0.source(), toQube.sink()));
            return new ChannelLink(toQube.source(), toDom0.sink());
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
}
