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
     * Exchanges hellos on a data channel: sends this side's first, then reads the peer's (as Qubes' agent does;
     * neither side waits for the other before sending).
     *
     * @return the protocol version of the channel: the lower of the two
     * @throws CompartException PROTOCOL when the peer sends something else or speaks a version below 3
     */
    public int handshake() {
        write(new Message.Hello(MessageCodec.PROTOCOL_VERSION));
        return negotiated(read());
    }

    /**
     * Answers the hello an agent sends first on its control channel, as Qubes' qrexec-daemon does: reads it, then
     * sends back the version both speak.
     *
     * @return that version (3 or 4)
     * @throws CompartException PROTOCOL when the agent sends something else or speaks a version below 3
     */
    public int answerHello() {
        int version = negotiated(read());
        write(new Message.Hello(version));
        return version;
    }

    private static int negotiated(Message first) {
        if (!(first instanceof Message.Hello(int version))) {
            throw new CompartException(ErrorKind.PROTOCOL, "qrexec: expected a hello first, got "
                    + (first == null ? "end of stream" : first));
        }
        int actual = Math.min(version, MessageCodec.PROTOCOL_VERSION);
        if (actual < MessageCodec.MIN_PROTOCOL_VERSION) {
            throw new CompartException(ErrorKind.PROTOCOL, "qrexec: peer speaks protocol version " + version
                    + ", this daemon needs " + MessageCodec.MIN_PROTOCOL_VERSION + " or later (Qubes R4.1+)");
        }
        return actual;
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
