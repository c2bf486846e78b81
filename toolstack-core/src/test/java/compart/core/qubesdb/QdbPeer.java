package compart.core.qubesdb;

import compart.core.qrexec.Link;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Test support: the qube's end of a QubesDB connection, speaking the bytes {@link QdbCodec} makes; what it
 * receives is decoded with the checks of the qube's own daemon (a message type it does not accept fails the
 * test).
 */
final class QdbPeer implements AutoCloseable {
    private final Link link;

    QdbPeer(Link link) {
        this.link = link;
    }

    void send(QdbMessage m) {
        link.write(QdbCodec.encode(m));
    }

    void sendRaw(byte[] bytes) {
        link.write(bytes);
    }

    /** @return the next message, or null at the end of the stream */
    QdbMessage receive() {
        byte[] h = new byte[QdbCodec.HEADER_SIZE];
        if (!readFully(h)) {
            return null;
        }
        var header = QdbCodec.decodeHeader(h, 0);
        byte[] data = new byte[header.dataLen()];
        if (!readFully(data)) {
            throw new AssertionError("stream ended inside " + header);
        }
        return new QdbMessage(header.type(), header.path(), data);
    }

    /** @return the messages of a MULTIREAD answer up to (not including) the terminator */
    List<QdbMessage> multiread() {
        send(QdbMessage.of(QdbType.MULTIREAD, ""));
        var out = new ArrayList<QdbMessage>();
        for (var m = receive(); !m.equals(QdbMessage.of(QdbType.RESP_MULTIREAD, "")); m = receive()) {
            out.add(m);
        }
        return out;
    }

    /** @return whether the stream ended (after draining what was still queued) */
    boolean ended() {
        byte[] sink = new byte[4096];
        while (true) {
            int n = link.read(sink, 0, sink.length);
            if (n < 0) {
                return true;
            }
        }
    }

    private boolean readFully(byte[] into) {
        int done = 0;
        while (done < into.length) {
            int n = link.read(into, done, into.length - done);
            if (n < 0) {
                if (done == 0) {
                    return false;
                }
                throw new AssertionError("stream ended after " + done + " bytes: " + Arrays.toString(into));
            }
            done += n;
        }
        return true;
    }

    /** Waits (up to 10 s) until {@code condition} holds; the server's threads finish a connection on their own. */
    static void await(BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached in 10 s");
            }
            LockSupport.parkNanos(Duration.ofMillis(2).toNanos());
        }
    }

    @Override
    public void close() {
        link.close();
    }
}
