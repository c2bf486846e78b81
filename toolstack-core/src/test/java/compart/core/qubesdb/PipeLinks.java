package compart.core.qubesdb;

import compart.core.qrexec.Link;
import java.io.IOException;
import java.nio.channels.Pipe;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Test support: a {@link QubesDbServer.Listener} over kernel pipes, modelled on a vchan server: each
 * {@link #listen()} makes a new channel (two pipes of 64 KiB, so a peer that stops reading really blocks the
 * writer) and keeps the qube's end for the next {@link #connect()}.
 */
final class PipeLinks implements QubesDbServer.Listener {
    private final BlockingQueue<Link> qubeEnds = new LinkedBlockingQueue<>();

    @Override
    public Link listen() {
        try {
            var toDom0 = Pipe.open();
            var toQube = Pipe.open();
            qubeEnds.add(new ChannelLink(toQube.source(), toDom0.sink()));
            return new ChannelLink(toDom0.source(), toQube.sink());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return the qube's end of the channel the server listens on now (waits until it listens) */
    Link connect() {
        try {
            return qubeEnds.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the server to listen", e);
        }
    }
}
