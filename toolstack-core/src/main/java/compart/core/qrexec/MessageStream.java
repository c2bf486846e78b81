package compart.core.qrexec;

import compart.errors.CompartException;
import compart.errors.ErrorKind;

import java.util.Objects;

/**
 * Framed qrexec messages over a {@link Link}: reads the 8-byte header, checks it before reading the payload,
 * decodes with {@link MessageCodec}. Writes are serialized so that two writer threads cannot interleave frames.
 */
public final class MessageStream implements AutoCloseable {
    private final Link link;
    private final Object writeLock = new Object();

    public MessageStream(Link link) {
        this.link = Objects.requireNonNull(link, "link");
    }

    /** @return the next message, or null at a clean end of stream (between messages) */
    public Message read() {
        byte[] header = new byte[MessageCodec.HEADER_SIZE];
        if (!readFully(header, true)) {
            return null;
        }
        int[] h = MessageCodec.decodeHeader(header);
        byte[] payload = new byte[h[1]];
        readFully(payload, false);
        return MessageCodec.decode(h[0], payload);
    }

    /** Writes one message. */
    public void write(Message message) {
        byte[] frame = MessageCodec.encode(message);
        synchronized (writeLock) {
            link.write(frame);
        }
    }

    /**
     * Exchanges hellos: both sides send theirs first (Qubes: server first, but each side only waits for the
     * other's after sending), then checks the peer speaks version 3 or later.
     */
    public void handshake() {
        write(new Message.Hello(MessageCodec.PROTOCOL_VERSION));
        Message first = read();
        if (!(first instanceof Message.Hello(int version))) {
            throw new CompartException(ErrorKind.PROTOCOL, "qrexec: expected a hello first, got "
                    + (first == null ? "end of stream" : first));
        }
        if (version < MessageCodec.PROTOCOL_VERSION) {
            throw new CompartException(ErrorKind.PROTOCOL, "qrexec: peer speaks protocol version " + version
                    + ", this daemon needs " + MessageCodec.PROTOCOL_VERSION);
        }
    }

    private boolean readFully(byte[] into, boolean eofAllowedAtStart) {
        int done = 0;
        while (done < into.length) {
            int n = link.read(into, done, into.length - done);
            if (n < 0) {
                if (done == 0 && eofAllowedAtStart) {
                    return false;
                }
                throw new CompartException(ErrorKind.PROTOCOL, "qrexec: stream ended inside a message ("
                        + done + " of " + into.length + " bytes)");
            }
            done += n;
        }
        return true;
    }

    @Override
    public void close() {
        link.close();
    }
}
