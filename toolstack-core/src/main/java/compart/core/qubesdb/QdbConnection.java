package compart.core.qubesdb;

import compart.core.qrexec.Link;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.util.ArrayDeque;
import org.slf4j.Logger;

/**
 * One connection of a qube's QubesDB daemon: reads whole messages from the link, and writes queued messages on
 * a thread of its own, so that dom0 never waits for a qube. The queue is bounded ({@link #MAX_QUEUED_BYTES}): a
 * qube that stops reading loses its connection.
 *
 * <p>Thread safe: {@link #send} from any thread; {@link #read} from the server's reader thread only.
 */
final class QdbConnection implements AutoCloseable {
    /** The most bytes waiting to be written to one qube. */
    static final int MAX_QUEUED_BYTES = 1 << 20;

    private final Link link;
    private final String qube;
    private final Logger log;
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
    private final Thread writer;
    private int queued;
    private boolean closed;
    private boolean synced;
    private String failure;

    QdbConnection(Link link, String qube, Logger log) {
        this.link = link;
        this.qube = qube;
        this.log = log;
        this.writer = Thread.ofPlatform().daemon().name("qubesdb-write-" + qube).start(this::writeLoop);
    }

    /** @return whether the qube has read the database (its MULTIREAD was answered): pushes go out from then on */
    synchronized boolean synced() {
        return synced;
    }

    synchronized void markSynced() {
        synced = true;
    }

    /** Queues a message; when the queue is full the connection fails (the reader then sees its end). */
    void send(QdbMessage message) {
        byte[] bytes = QdbCodec.encode(message);
        int waiting;
        synchronized (this) {
            if (closed) {
                return;
            }
            waiting = queued;
            if (queued + bytes.length <= MAX_QUEUED_BYTES) {
                queue.add(bytes);
                queued += bytes.length;
                notifyAll();
                return;
            }
        }
        // closing a vchan may wait for its writer: never on the caller's thread (a push from the toolstack)
        String reason = qube + " does not read its QubesDB: " + waiting + " bytes wait to be sent";
        Thread.ofPlatform().daemon().name("qubesdb-drop-" + qube).start(() -> fail(reason));
    }

    private void writeLoop() {
        while (true) {
            byte[] next;
            synchronized (this) {
                while (queue.isEmpty() && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                next = queue.poll();
                queued -= next.length;
            }
            try {
                link.write(next);
            } catch (RuntimeException e) {
                fail("cannot write to " + qube + ": " + e.getMessage());
                return;
            }
        }
    }

    /**
     * Reads exactly {@code length} bytes.
     *
     * @return false at a clean end of the stream before the first byte
     * @throws CompartException PROTOCOL when the stream ends inside a message
     */
    boolean read(byte[] into, int length) {
        int done = 0;
        while (done < length) {
            int n = link.read(into, done, length - done);
            if (n < 0) {
                if (done == 0 && length == QdbCodec.HEADER_SIZE) {
                    return false;
                }
                throw new CompartException(ErrorKind.PROTOCOL, "qubesdb: " + qube + " closed its connection inside a "
                        + "message (" + done + " of " + length + " bytes)");
            }
            done += n;
        }
        return true;
    }

    /** Ends the connection for {@code reason}: the link is closed, so the reader sees the end. */
    void fail(String reason) {
        synchronized (this) {
            if (!closed && failure == null) {
                failure = reason;
                log.warn("qubesdb: dropping the connection of {}: {}", qube, reason);
            }
        }
        close();
    }

    /** @return why the connection was failed by dom0, if it was */
    synchronized String failure() {
        return failure;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            queue.clear();
            notifyAll();
        }
        writer.interrupt();
        link.close();
    }
}
