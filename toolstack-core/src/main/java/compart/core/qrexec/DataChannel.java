package compart.core.qrexec;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.xl.vchan.Vchan;

import java.time.Duration;

/**
 * dom0's server end of one call's data vchan ({@code /local/domain/0/data/vchan/PEER/PORT}), offered to an agent
 * with an {@link Message.Exec}. {@link #open} waits for the agent to connect and exchanges hellos.
 * One reader and one writer thread; {@link #close()} once both are out.
 */
final class DataChannel implements AutoCloseable {
    private static final int RING = 65536;

    private final Vchan vchan;
    private final MessageStream stream;
    private final Runnable release;
    private final String description;

    private DataChannel(Vchan vchan, Runnable release, String description) {
        this.vchan = vchan;
        this.stream = new MessageStream(new VchanLink(vchan));
        this.release = release;
        this.description = description;
    }

    /** Publishes the server end for {@code peerDomid} on {@code port}; {@code release} frees the port at close. */
    static DataChannel offer(int peerDomid, int port, Runnable release, String description) {
        try {
            return new DataChannel(Vchan.server(peerDomid, VchanLink.path(0, peerDomid, port), RING, RING), release,
                    description);
        } catch (RuntimeException e) {
            release.run();
            throw e;
        }
    }

    /** Waits up to {@code timeout} for the agent to connect, then exchanges hellos. */
    DataChannel open(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (vchan.state() == Vchan.State.WAITING_FOR_CLIENT) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new CompartException(ErrorKind.TIMEOUT, description + ": the agent did not connect its data "
                        + "channel within " + timeout.toSeconds() + " s");
            }
            vchan.awaitEvent(Duration.ofNanos(Math.min(left, 200_000_000L)));
        }
        stream.handshake();
        return this;
    }

    MessageStream stream() {
        return stream;
    }

    @Override
    public void close() {
        try {
            stream.close(); // frees the vchan once no thread is inside it (a stdin feeder may outlive the call)
        } finally {
            release.run();
        }
    }
}
