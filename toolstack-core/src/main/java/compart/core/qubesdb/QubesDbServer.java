package compart.core.qubesdb;

import compart.core.qrexec.Link;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * dom0's QubesDB daemon for one qube: the vchan server end (port {@link #VCHAN_PORT}) that the qube's
 * {@code qubesdb-daemon} connects to. It holds the qube's database ({@link QubesDb}, an exact mirror of the
 * qube's copy), answers the qube's one MULTIREAD per connection with every entry and an empty terminator, takes
 * the WRITE and RM the qube sends back, and pushes dom0's changes ({@link #update}) as WRITE and RM.
 *
 * <p>It never sends what makes the qube's daemon exit: an RM only for a path the mirror holds, no response the
 * qube did not ask for, no error carrying data, and no "no such entry" (a failed RM from the qube is answered
 * with a plain error, which the qube's daemon logs and ignores). Everything the qube sends is checked as upstream
 * checks it; a qube that breaks the protocol, passes the bounds or stops reading loses its connection, and the
 * server listens again (a restarted qube daemon reads the database again the same way).
 *
 * <p>Thread safe. One platform thread reads per qube, one more writes while a connection is up.
 */
public final class QubesDbServer implements AutoCloseable {
    /** {@code QUBESDB_VCHAN_PORT}. */
    public static final int VCHAN_PORT = 111;
    /** The ring sizes upstream's dom0 daemon asks for (each way). */
    public static final int RING_SIZE = 4096;

    /** Where a qube's daemon connects: a new vchan server end per connection; a pipe in tests. */
    @FunctionalInterface
    public interface Listener {
        /**
         * @return a link the qube's daemon connects to (reads wait until it has)
         * @throws CompartException when no link can be offered (the domain is gone): the server stops
         */
        Link listen();
    }

    private final String qube;
    private final Logger log;
    private final QubesDb db = new QubesDb();
    private final Object lock = new Object();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong drops = new AtomicLong();
    private SortedMap<String, String> planned;
    private QdbConnection connection;
    private Thread serving;
    private volatile boolean closed;

    private QubesDbServer(String qube, SortedMap<String, String> entries) {
        this.qube = qube;
        this.log = LoggerFactory.getLogger("compart.qube." + qube);
        this.planned = new TreeMap<>(entries);
    }

    /**
     * A filled database for a qube about to start (not serving yet).
     *
     * @param qube       the qube's name (for logs)
     * @param entries    dom0's entries ({@link QubesDbEntries#of})
     * @param randomSeed {@code /qubes-random-seed}: base64 of 64 random bytes, new at every start
     * @return the server
     */
    public static QubesDbServer create(String qube, SortedMap<String, String> entries, String randomSeed) {
        var s = new QubesDbServer(qube, entries);
        entries.forEach((k, v) -> s.db.write(k, v.getBytes(StandardCharsets.UTF_8)));
        s.db.write("/qubes-random-seed", randomSeed.getBytes(StandardCharsets.US_ASCII));
        return s;
    }

    /** @return the database (what the qube sees, including what it wrote) */
    public QubesDb db() {
        return db;
    }

    /** @return dom0's entries as last planned */
    public SortedMap<String, String> planned() {
        synchronized (lock) {
            return Collections.unmodifiableSortedMap(new TreeMap<>(planned));
        }
    }

    /** @return how many channels were offered to the qube's daemon: one per connection, the waiting one included */
    public long connections() {
        return connections.get();
    }

    /** @return how many connections were dropped for breaking the protocol, passing the bounds or not reading */
    public long drops() {
        return drops.get();
    }

    /** @return whether a connection is up and has read the database */
    public boolean synced() {
        synchronized (lock) {
            return connection != null && connection.synced();
        }
    }

    /**
     * Applies dom0's new entries: the mirror changes at once; a synced qube gets the pushes of
     * {@link QubesDbEntries#updates} (an RM only when the mirror holds something to remove).
     *
     * @return how many messages were pushed (0 while no connection is synced)
     */
    public int update(SortedMap<String, String> entries) {
        int pushed = 0;
        synchronized (lock) {
            var ops = QubesDbEntries.updates(planned, entries);
            planned = new TreeMap<>(entries);
            var conn = connection != null && connection.synced() ? connection : null;
            for (var op : ops) {
                QdbMessage message = switch (op) {
                    case QdbOp.Write w -> {
                        db.write(w.path(), w.value().getBytes(StandardCharsets.UTF_8));
                        yield QdbMessage.of(QdbType.WRITE, w.path(), w.value());
                    }
                    case QdbOp.Remove r -> db.remove(r.path()) ? QdbMessage.of(QdbType.RM, r.path()) : null;
                };
                if (message != null && conn != null) {
                    conn.send(message);
                    pushed++;
                }
            }
        }
        if (pushed > 0) {
            log.info("qubesdb: pushed {} changes to {}", pushed, qube);
        }
        return pushed;
    }

    /**
     * Writes a client's firewall again as qubesd's {@code reload_firewall_for_vm} does (its rules removed, written
     * again, the complete signal last), so that the net qube applies it again even when nothing changed.
     *
     * @param clientIp the client's address
     * @return how many messages were pushed (0 when the client has no firewall here or no connection is synced)
     */
    public int reloadFirewall(String clientIp) {
        SortedMap<String, String> full;
        synchronized (lock) {
            String base = "/qubes-firewall/" + clientIp;
            if (!planned.containsKey(base)) {
                return 0;
            }
            full = new TreeMap<>(planned);
            planned.keySet().removeIf(k -> k.equals(base) || k.startsWith(base + "/"));
        }
        return update(full);
    }

    /**
     * Starts serving: listens now (so that a failure to listen fails the caller, as a start step), then on a
     * thread serves each connection until it ends and listens again, until {@link #close()}.
     *
     * @param listener where the qube's daemon connects
     * @throws CompartException when the first listen fails
     */
    public void serve(Listener listener) {
        synchronized (lock) {
            if (serving != null) {
                throw new IllegalStateException("qubesdb of " + qube + " is served already");
            }
            Link first = listener.listen();
            serving = Thread.ofPlatform().daemon().name("qubesdb-" + qube).start(() -> serveLoop(listener, first));
        }
    }

    private void serveLoop(Listener listener, Link first) {
        Link next = first;
        while (!closed) {
            Link link = next;
            next = null;
            if (link == null) {
                try {
                    link = listener.listen();
                } catch (RuntimeException e) {
                    if (!closed) {
                        log.warn("qubesdb: cannot listen for {}: {}; its QubesDB is no longer served", qube,
                                e.getMessage());
                    }
                    return;
                }
            }
            var conn = new QdbConnection(link, qube, log);
            synchronized (lock) {
                if (closed) {
                    conn.close();
                    return;
                }
                connection = conn;
            }
            connections.incrementAndGet();
            try {
                session(conn);
                if (conn.failure() == null && !closed) {
                    log.info("qubesdb: the QubesDB daemon of {} closed its connection; listening again", qube);
                }
            } catch (RuntimeException e) {
                conn.fail(e.getMessage());
            } finally {
                synchronized (lock) {
                    if (connection == conn) {
                        connection = null;
                    }
                }
                conn.close();
            }
            if (conn.failure() != null && !closed) {
                drops.incrementAndGet();
            }
        }
    }

    /** Reads and handles messages until the qube closes the connection or breaks the protocol. */
    private void session(QdbConnection conn) {
        byte[] untrustedHeader = new byte[QdbCodec.HEADER_SIZE];
        while (!closed && conn.read(untrustedHeader, QdbCodec.HEADER_SIZE)) {
            var h = QdbCodec.decodeHeader(untrustedHeader, 0);
            byte[] untrustedData = new byte[h.dataLen()];
            conn.read(untrustedData, h.dataLen());
            switch (h.type()) {
                case MULTIREAD -> multiread(conn, h, untrustedData);
                case WRITE -> guestWrite(conn, h, untrustedData);
                case RM -> guestRemove(conn, h, untrustedData);
                case RESP_OK, RESP_ERROR -> {
                    if (untrustedData.length > 0) {
                        throw violation(h.type() + " carrying " + untrustedData.length + " bytes of data");
                    }
                }
                case RESP_MULTIREAD -> throw violation("a MULTIREAD response, but dom0 asked for none");
                default -> throw violation("message type " + h.type() + " is not valid between daemons");
            }
        }
    }

    private void multiread(QdbConnection conn, QdbCodec.Header h, byte[] untrustedData) {
        if (untrustedData.length > 0 && !conn.synced()) {
            conn.send(QdbMessage.of(QdbType.RESP_ERROR, h.path())); // upstream recovers: error, connection kept
            return;
        }
        int n;
        synchronized (lock) {
            if (conn.synced()) {
                throw violation("a second MULTIREAD on one connection (only one after connecting)");
            }
            var all = db.multiread(h.path());
            all.forEach(conn::send);
            conn.send(QdbMessage.of(QdbType.RESP_MULTIREAD, ""));
            conn.markSynced();
            n = all.size();
        }
        log.info("qubesdb: {} read its QubesDB ({} entries)", qube, n);
    }

    private void guestWrite(QdbConnection conn, QdbCodec.Header h, byte[] untrustedData) {
        if (!QdbCodec.dataValid(untrustedData)) {
            conn.send(QdbMessage.of(QdbType.RESP_ERROR, h.path())); // a NUL byte: refused, connection kept
            return;
        }
        synchronized (lock) {
            if (!db.writeFromGuest(h.path(), untrustedData)) {
                conn.send(QdbMessage.of(QdbType.RESP_ERROR, h.path()));
                throw violation(QdbPath.validEntry(h.path()) ? "a write to " + h.path() + " passes the bounds ("
                        + QubesDb.MAX_GUEST_ENTRIES + " entries, " + QubesDb.MAX_GUEST_BYTES + " bytes)"
                        : "a write to '" + h.path() + "', which names no entry");
            }
            conn.send(QdbMessage.of(QdbType.RESP_OK, h.path()));
        }
    }

    private void guestRemove(QdbConnection conn, QdbCodec.Header h, byte[] untrustedData) {
        if (untrustedData.length > 0) {
            conn.send(QdbMessage.of(QdbType.RESP_ERROR, h.path())); // RM carries no data: refused, connection kept
            return;
        }
        synchronized (lock) {
            boolean removed = db.remove(h.path());
            conn.send(QdbMessage.of(removed ? QdbType.RESP_OK : QdbType.RESP_ERROR, h.path()));
        }
    }

    private CompartException violation(String what) {
        return new CompartException(ErrorKind.PROTOCOL, "qubesdb: " + qube + " sent " + what);
    }

    /** Stops serving and closes the connection; the database stays readable. Idempotent. */
    @Override
    public void close() {
        Thread t;
        QdbConnection conn;
        synchronized (lock) {
            closed = true;
            t = serving;
            conn = connection;
        }
        if (conn != null) {
            conn.close();
        }
        if (t != null) {
            t.interrupt();
        }
    }
}
