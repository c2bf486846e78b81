package compart.core.qrexec;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.time.Duration;

/**
 * dom0's end of one call's data vchan: the server end of a command dom0 runs in a qube ({@link #offer}, the
 * agent connects after an {@link Message.Exec}), or the client end of a qube's call to a dom0 service
 * ({@link #connect}, the qube's {@code qrexec-client-vm} serves it after a {@code MSG_SERVICE_CONNECT}). The data
 * port stays allocated until the agent reports {@code MSG_CONNECTION_TERMINATED} ({@link QrexecDaemon}).
 * One reader and one writer thread; {@link #close()} once both are out.
 */
final class DataChannel implements AutoCloseable {
    private final VchanTransport.Offer offer;
    private final String description;
    private volatile MessageStream stream;

    private DataChannel(VchanTransport.Offer offer, MessageStream stream, String description) {
        this.offer = offer;
        this.stream = stream;
        this.description = description;
    }

    /** Publishes the server end for {@code peerDomid} on {@code port}. */
    static DataChannel offer(VchanTransport transport, int peerDomid, int port, String description) {
        return new DataChannel(transport.offer(peerDomid, port), null, description);
    }

    /**
     * Connects to the server end domain {@code serverDomid} publishes on {@code port}, waiting up to
     * {@code timeout} for it to appear, then exchanges hellos.
     */
    static DataChannel connect(VchanTransport transport, int serverDomid, int port, Duration timeout,
                               String description) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                var channel = new DataChannel(null, new MessageStream(transport.connect(serverDomid, port)),
                        description);
                try {
                    channel.stream.handshake();
                } catch (RuntimeException e) {
                    channel.close();
                    throw e;
                }
                return channel;
            } catch (CompartException e) {
                if (e.kind() != ErrorKind.HYPERVISOR) {
                    throw e;
                }
                if (System.nanoTime() > deadline) {
                    throw new CompartException(ErrorKind.TIMEOUT, description + ": the qube did not publish its "
                            + "data channel within " + timeout.toSeconds() + " s", e);
                }
                Thread.sleep(10);
            }
        }
    }

    /** Waits up to {@code timeout} for the agent to connect to an offered end, then exchanges hellos. */
    DataChannel open(Duration timeout) {
        try {
            stream = new MessageStream(offer.accept(timeout));
        } catch (CompartException e) {
            throw new CompartException(e.kind(), description + ": " + e.getMessage(), e);
        }
        stream.handshake();
        return this;
    }

    MessageStream stream() {
        return stream;
    }

    @Override
    public void close() {
        MessageStream s = stream;
        if (s != null) {
            s.close(); // frees the vchan once no thread is inside it (a stdin feeder may outlive the call)
        } else if (offer != null) {
            offer.close();
        }
    }
}
