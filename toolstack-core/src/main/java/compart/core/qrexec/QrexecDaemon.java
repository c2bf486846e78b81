package compart.core.qrexec;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.xl.vchan.Vchan;
import java.time.Duration;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * dom0's end of one qube's qrexec control channel: the vchan client of the agent's server on port
 * {@value MessageCodec#CONTROL_PORT} ({@code /local/domain/DOMID/data/vchan/0/512}), after a version 3 hello.
 *
 * <p>A platform thread reads the agent's messages: {@link Message.TriggerService} goes to the router (each call on
 * its own thread), {@link Message.ConnectionTerminated} is noted, anything else a daemon must not receive breaks
 * this connection only. Writes ({@link #send}) may come from any thread.
 */
public final class QrexecDaemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QrexecDaemon.class);

    private final String qube;
    private final int domid;
    private final MessageStream control;
    private final Consumer<Message.TriggerService> triggers;
    private final Thread reader;
    private volatile boolean closing;

    private QrexecDaemon(String qube, int domid, MessageStream control, Consumer<Message.TriggerService> triggers) {
        this.qube = qube;
        this.domid = domid;
        this.control = control;
        this.triggers = triggers;
        this.reader = Thread.ofPlatform().daemon().name("qrexec-" + qube).unstarted(this::readLoop);
    }

    /**
     * Connects to the agent of {@code qube} (domain {@code domid}), waiting up to {@code timeout} for it to
     * publish its control vchan, and starts reading.
     *
     * @param triggers receives each service call the qube asks for (from the reader thread: hand it off)
     * @throws CompartException TIMEOUT when no agent answered, PROTOCOL when it does not speak version 3
     */
    public static QrexecDaemon connect(String qube, int domid, Duration timeout,
                                       Consumer<Message.TriggerService> triggers) throws InterruptedException {
        return connect(qube, domid, timeout, () -> true, triggers);
    }

    /**
     * As {@link #connect(String, int, Duration, Consumer)}, but gives up as soon as {@code domainAlive} says the
     * domain is gone (a guest that powered off or crashed during its boot never publishes the vchan).
     *
     * @throws CompartException INVALID_STATE when the domain died before its agent answered
     */
    public static QrexecDaemon connect(String qube, int domid, Duration timeout,
                                       BooleanSupplier domainAlive,
                                       Consumer<Message.TriggerService> triggers) throws InterruptedException {
        Objects.requireNonNull(qube, "qube");
        long deadline = System.nanoTime() + timeout.toNanos();
        String path = VchanLink.path(domid, 0, MessageCodec.CONTROL_PORT);
        while (true) {
            try {
                Vchan vchan = Vchan.client(domid, path);
                var stream = new MessageStream(new VchanLink(vchan));
                try {
                    stream.handshake();
                } catch (RuntimeException e) {
                    stream.close();
                    throw e;
                }
                var daemon = new QrexecDaemon(qube, domid, stream, triggers);
                daemon.reader.start();
                LOG.info("qrexec: connected to the agent of {} (domain {})", qube, domid);
                return daemon;
            } catch (CompartException e) {
                if (e.kind() != ErrorKind.HYPERVISOR || System.nanoTime() > deadline) {
                    throw e.kind() == ErrorKind.HYPERVISOR ? new CompartException(ErrorKind.TIMEOUT, "qrexec: no agent "
                            + "in " + qube + " (domain " + domid + ") published " + path + " within "
                            + timeout.toSeconds() + " s; is qrexec-agent running in the qube?", e) : e;
                }
                if (!domainAlive.getAsBoolean()) {
                    throw new CompartException(ErrorKind.INVALID_STATE, "qrexec: " + qube + " (domain " + domid
                            + ") died before its qrexec agent answered; see /var/log/xen/console/guest-" + qube
                            + ".log for what it did");
                }
                Thread.sleep(250);
            }
        }
    }

    /** @return the qube's name */
    public String qube() {
        return qube;
    }

    /** @return the qube's domain id */
    public int domid() {
        return domid;
    }

    /** Sends one control message to the agent. */
    public void send(Message message) {
        control.write(message);
    }

    /** @return whether the control connection still works */
    public boolean alive() {
        return reader.isAlive();
    }

    private void readLoop() {
        try {
            while (!closing) {
                Message m = control.read();
                if (m == null) {
                    LOG.info("qrexec: the agent of {} closed its control channel", qube);
                    return;
                }
                switch (m) {
                    case Message.TriggerService t -> triggers.accept(t);
                    case Message.ConnectionTerminated c -> LOG.debug("qrexec: {} released port {}", qube, c.port());
                    default -> throw new CompartException(ErrorKind.PROTOCOL, "qrexec: the agent of " + qube
                            + " sent a message only dom0 may send (type 0x" + Integer.toHexString(m.type()) + ")");
                }
            }
        } catch (CompartException e) {
            if (!closing) {
                LOG.warn("qrexec: dropping the connection to {}: {}", qube, e.getMessage());
            }
        }
    }

    /** Stops reading and closes the control channel. */
    @Override
    public void close() {
        closing = true;
        try {
            reader.join(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        control.close();
    }
}
