package compart.core.qrexec;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * dom0's end of one qube's qrexec control channel, what Qubes' per-qube {@code qrexec-daemon} is: the vchan client
 * of the agent's server on port {@value MessageCodec#CONTROL_PORT} ({@code /local/domain/DOMID/data/vchan/0/512}),
 * after the agent's hello was answered with the version both speak (3 or 4).
 *
 * <p>A platform thread reads the agent's messages, as Qubes' daemon does:
 * <ul>
 *   <li>{@code MSG_TRIGGER_SERVICE3}/{@code 4}: the names are checked and cleaned as Qubes does (a bad request id,
 *       an empty service name, one starting with {@code +} or holding a NUL is refused with
 *       {@code MSG_SERVICE_REFUSED}; other bytes outside the allowed set become {@code _}), then the call goes to
 *       the {@link Calls} on its own thread, at most {@code pendingLimit} at a time per qube (more are refused, as
 *       Qubes' daemon refuses when its pending-call slots are full). A trigger of the other protocol version than
 *       the one negotiated (a v3 agent sending the v4 trigger) breaks the channel, as in Qubes.</li>
 *   <li>{@code MSG_CONNECTION_TERMINATED}: frees the data port it names, if it was allocated to that domain.</li>
 *   <li>Anything else, or a framing error: this qube's channel is dropped (Qubes' daemon for that qube exits);
 *       other qubes are not affected.</li>
 *   <li>The end of the stream (the agent restarted): the daemon connects again as soon as the agent publishes
 *       its channel again, while the domain lives (Qubes' {@code handle_agent_restart}).</li>
 * </ul>
 * Writes ({@link #send}) may come from any thread.
 */
public final class QrexecDaemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QrexecDaemon.class);
    /** Data ports per qube, as Qubes' MAX_CLIENTS. */
    static final int PORTS = 256;
    /** Pending calls per qube, as Qubes' policy-pending slots. */
    static final int DEFAULT_PENDING_LIMIT = 256;
    private static final int FIRST_DATA_PORT = MessageCodec.CONTROL_PORT + 1;
    private static final int UNUSED = -1;

    private final String qube;
    private final int domid;
    private final VchanTransport transport;
    private final BooleanSupplier domainAlive;
    private final Calls calls;
    private final Semaphore pending;
    private final int[] ports = new int[PORTS];
    private final AtomicInteger terminations = new AtomicInteger();
    private final AtomicInteger refusals = new AtomicInteger();
    private final AtomicInteger reconnects = new AtomicInteger();
    private final Thread reader;
    private volatile MessageStream control;
    private volatile int version;
    private volatile boolean closing;

    /** Where a checked service call from the qube goes. */
    @FunctionalInterface
    public interface Calls {
        /**
         * Decides and connects one call (on a thread of its own).
         *
         * @return false when the call is refused (the daemon then sends {@code MSG_SERVICE_REFUSED})
         */
        boolean serve(QrexecDaemon source, ServiceCall call);
    }

    /**
     * A service call a qube asked for, after its names were checked and cleaned.
     *
     * @param requestedSource the source a protocol 4 caller asked to act for, empty when none
     * @param target          the target as the caller named it ({@code @default}, {@code @dispvm:BASE}, a name)
     * @param service         the service with its {@code +argument}
     * @param ident           the agent's request id, echoed in the answer
     */
    public record ServiceCall(String requestedSource, String target, String service, String ident) {
        public ServiceCall {
            Objects.requireNonNull(requestedSource, "requestedSource");
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(ident, "ident");
        }
    }

    private QrexecDaemon(String qube, int domid, VchanTransport transport, BooleanSupplier domainAlive,
                         Calls calls, int pendingLimit, MessageStream control, int version) {
        this.qube = qube;
        this.domid = domid;
        this.transport = transport;
        this.domainAlive = domainAlive;
        this.calls = calls;
        this.pending = new Semaphore(pendingLimit);
        this.control = control;
        this.version = version;
        Arrays.fill(ports, UNUSED);
        this.reader = Thread.ofPlatform().daemon().name("qrexec-" + qube).unstarted(this::readLoop);
    }

    /**
     * Connects to the agent of {@code qube} (domain {@code domid}) over Xen vchans, waiting up to {@code timeout}
     * for it to publish its control vchan, and starts reading.
     *
     * @throws CompartException TIMEOUT when no agent answered, PROTOCOL when it speaks a version below 3,
     *                          INVALID_STATE when the domain died before its agent answered
     */
    public static QrexecDaemon connect(String qube, int domid, Duration timeout, BooleanSupplier domainAlive,
                                       Calls calls) throws InterruptedException {
        return connect(VchanTransport.xen(), qube, domid, timeout, domainAlive, calls, DEFAULT_PENDING_LIMIT);
    }

    /** As {@link #connect(String, int, Duration, BooleanSupplier, Calls)}, over {@code transport}. */
    static QrexecDaemon connect(VchanTransport transport, String qube, int domid, Duration timeout,
                                BooleanSupplier domainAlive, Calls calls, int pendingLimit)
            throws InterruptedException {
        Objects.requireNonNull(qube, "qube");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                MessageStream stream = open(transport, domid);
                int version;
                try {
                    version = stream.answerHello();
                } catch (RuntimeException e) {
                    stream.close();
                    throw e;
                }
                var daemon = new QrexecDaemon(qube, domid, transport, domainAlive, calls, pendingLimit, stream,
                        version);
                daemon.reader.start();
                LOG.info("qrexec: connected to the agent of {} (domain {}), protocol {}", qube, domid, version);
                return daemon;
            } catch (CompartException e) {
                if (e.kind() != ErrorKind.HYPERVISOR || System.nanoTime() > deadline) {
                    throw e.kind() == ErrorKind.HYPERVISOR ? new CompartException(ErrorKind.TIMEOUT, "qrexec: no agent "
                            + "in " + qube + " (domain " + domid + ") published "
                            + VchanLink.path(domid, 0, MessageCodec.CONTROL_PORT) + " within " + timeout.toSeconds()
                            + " s; is qrexec-agent running in the qube?", e) : e;
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

    private static MessageStream open(VchanTransport transport, int domid) {
        return new MessageStream(transport.connect(domid, MessageCodec.CONTROL_PORT));
    }

    /** @return the qube's name */
    public String qube() {
        return qube;
    }

    /** @return the qube's domain id */
    public int domid() {
        return domid;
    }

    /** @return the protocol version negotiated with the agent (3 or 4) */
    public int protocolVersion() {
        return version;
    }

    /** Sends one control message to the agent. */
    public void send(Message message) {
        control.write(message);
    }

    /** @return whether the control connection still works (or is being re-established after an agent restart) */
    public boolean alive() {
        return reader.isAlive();
    }

    /**
     * Allocates a data port of this qube for a vchan with {@code connectDomain}, as Qubes' daemon does: any port
     * for dom0; for another qube only odd or only even ones (by which domain id is larger), so that the daemons of
     * both qubes never hand out the same port for the pair.
     *
     * @throws CompartException INVALID_STATE when all are in use
     */
    int allocatePort(int connectDomain) {
        int start = connectDomain == 0 ? 0 : (connectDomain > domid ? 1 : 0);
        int step = connectDomain == 0 ? 1 : 2;
        synchronized (ports) {
            for (int i = start; i < PORTS; i += step) {
                if (ports[i] == UNUSED) {
                    ports[i] = connectDomain;
                    return FIRST_DATA_PORT + i;
                }
            }
        }
        throw new CompartException(ErrorKind.INVALID_STATE, "qrexec: all " + PORTS + " data ports of " + qube
                + " are in use; too many calls");
    }

    /** Frees {@code port} if it is allocated to {@code connectDomain} (a call that never started). */
    void releasePort(int port, int connectDomain) {
        int i = port - FIRST_DATA_PORT;
        if (i < 0 || i >= PORTS) {
            return;
        }
        synchronized (ports) {
            if (ports[i] == connectDomain) {
                ports[i] = UNUSED;
                ports.notifyAll();
            }
        }
    }

    /**
     * Waits until {@code port} is no longer allocated to {@code connectDomain} (the agent reported the end of the
     * connection), or this daemon stopped: how Qubes waits for the end of a call to a disposable.
     */
    void awaitRelease(int port, int connectDomain) throws InterruptedException {
        int i = port - FIRST_DATA_PORT;
        synchronized (ports) {
            while (ports[i] == connectDomain && alive() && !closing) {
                ports.wait(500);
            }
        }
    }

    /** @return how many data ports of this qube are allocated */
    int portsInUse() {
        synchronized (ports) {
            return (int) Arrays.stream(ports).filter(p -> p != UNUSED).count();
        }
    }

    /** @return how many {@code MSG_CONNECTION_TERMINATED} the agent sent */
    int terminations() {
        return terminations.get();
    }

    /** @return how many calls of this qube were refused */
    int refusals() {
        return refusals.get();
    }

    /** @return how many times the agent restarted and the daemon connected again */
    int reconnects() {
        return reconnects.get();
    }

    private void readLoop() {
        try {
            while (!closing) {
                Message m = control.read();
                if (m == null) {
                    LOG.info("qrexec: the agent of {} closed its control channel", qube);
                    if (!reconnect()) {
                        return;
                    }
                    continue;
                }
                switch (m) {
                    case Message.TriggerService t -> trigger(t);
                    case Message.ConnectionTerminated c -> connectionTerminated(c);
                    default -> throw new CompartException(ErrorKind.PROTOCOL, "qrexec: the agent of " + qube
                            + " sent a message only dom0 may send (type 0x" + Integer.toHexString(m.type()) + ")");
                }
            }
        } catch (CompartException e) {
            if (!closing) {
                LOG.warn("qrexec: dropping the connection to {}: {}", qube, e.getMessage());
                control.close();
            }
        }
    }

    /** Waits for a restarted agent to publish its channel again; false when the domain is gone or closing. */
    private boolean reconnect() {
        control.close();
        while (!closing && domainAlive.getAsBoolean()) {
            try {
                MessageStream stream = open(transport, domid);
                try {
                    version = stream.answerHello();
                } catch (RuntimeException e) {
                    stream.close();
                    throw e;
                }
                control = stream;
                reconnects.incrementAndGet();
                LOG.info("qrexec: the agent of {} reconnected, protocol {}", qube, version);
                return true;
            } catch (CompartException e) {
                if (e.kind() != ErrorKind.HYPERVISOR) {
                    LOG.warn("qrexec: the restarted agent of {} failed its hello: {}", qube, e.getMessage());
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return false;
            }
        }
        return false;
    }

    private void connectionTerminated(Message.ConnectionTerminated c) {
        int i = c.port() - FIRST_DATA_PORT;
        if (i < 0 || i >= PORTS) {
            throw new CompartException(ErrorKind.PROTOCOL, "qrexec: the agent of " + qube
                    + " reported the end of a connection on port " + c.port() + ", not a data port");
        }
        terminations.incrementAndGet();
        releasePort(c.port(), c.domain());
        LOG.debug("qrexec: {} released port {} to domain {}", qube, c.port(), c.domain());
    }

    private void trigger(Message.TriggerService t) {
        if (t.protocol() > version) {
            throw new CompartException(ErrorKind.PROTOCOL, "qrexec: the agent of " + qube + " sent a protocol "
                    + t.protocol() + " service trigger although it speaks protocol " + version);
        }
        Optional<ServiceCall> checked = check(qube, t);
        if (checked.isEmpty()) {
            refuse(t.untrustedIdent());
            return;
        }
        ServiceCall call = checked.get();
        if (!pending.tryAcquire()) {
            LOG.warn("qrexec: {} -> {}: {}: refused, too many pending calls from {}", qube, call.target(),
                    call.service(), qube);
            refuse(call.ident());
            return;
        }
        Thread.ofPlatform().daemon().name("qrexec-call-" + qube).start(() -> {
            try {
                if (!calls.serve(this, call)) {
                    refuse(call.ident());
                }
            } catch (RuntimeException e) {
                LOG.warn("qrexec: call from {} failed: {}", qube, e.getMessage());
                refuse(call.ident());
            } finally {
                pending.release();
            }
        });
    }

    private void refuse(String ident) {
        refusals.incrementAndGet();
        try {
            send(new Message.ServiceRefused(ident));
        } catch (RuntimeException e) {
            LOG.debug("qrexec: could not refuse a call of {}: {}", qube, e.getMessage());
        }
    }

    /**
     * Checks and cleans a trigger's names as Qubes' daemon does (pure).
     *
     * @return the call, or empty when it must be refused (the reason is logged)
     */
    static Optional<ServiceCall> check(String qube, Message.TriggerService t) {
        String ident = t.untrustedIdent();
        if (!validIdent(ident)) {
            LOG.warn("qrexec: {} sent a bad request id; call refused", qube);
            return Optional.empty();
        }
        String service = t.untrustedService();
        if (service.indexOf('\0') >= 0) {
            LOG.warn("qrexec: {} sent a service name with a NUL byte or without its terminator; call refused",
                    qube);
            return Optional.empty();
        }
        if (service.isEmpty() || service.startsWith("+")) {
            LOG.warn("qrexec: {} sent an empty service name or one starting with '+'; call refused", qube);
            return Optional.empty();
        }
        return Optional.of(new ServiceCall(sanitize(t.untrustedSource(), "@:"), sanitize(t.untrustedTarget(), "@:"),
                sanitize(service, "+"), ident));
    }

    private static boolean validIdent(String ident) {
        byte[] b = ident.getBytes(StandardCharsets.ISO_8859_1);
        if (b.length >= 32) {
            return false; // no NUL terminator within the field
        }
        for (byte c : b) {
            boolean ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'
                    || c == '-' || c == '.' || c == ' ';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Replaces every byte outside {@code A-Za-z0-9_.-} and {@code extra} with {@code _}, as Qubes' daemon. */
    static String sanitize(String untrusted, String extra) {
        var out = new StringBuilder(untrusted.length());
        for (char c : untrusted.toCharArray()) {
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
                    || c == '-' || c == '.' || extra.indexOf(c) >= 0;
            out.append(ok ? c : '_');
        }
        return out.toString();
    }

    /** Stops reading and closes the control channel. */
    @Override
    public void close() {
        closing = true;
        control.close();
        try {
            reader.join(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
