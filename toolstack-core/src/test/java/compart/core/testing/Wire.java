package compart.core.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A minimal Admin API client for tests, speaking the wire protocol as qubesadmin does: one connection per call,
 * {@code METHOD+ARG SRC name DEST\0PAYLOAD}, write side closed, the whole reply read.
 *
 * @param socket the daemon's socket
 */
public record Wire(Path socket) {
    /**
     * Sends one request's bytes as they are given (also malformed or oversized ones) in one write, closes the write
     * side and reads the whole reply (also when the daemon answered and closed before taking the whole request).
     *
     * @return the reply's bytes
     */
    public byte[] send(byte[] request) throws IOException {
        try (var ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            var b = ByteBuffer.wrap(request);
            try {
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.shutdownOutput();
            } catch (IOException refusedBeforeReading) {
                // a daemon that refuses the connection answers at once and closes: its reply is still there to read
            }
            return readToEnd(ch);
        }
    }

    /** @return every byte {@code ch} gives until the other side closes its end */
    public static byte[] readToEnd(SocketChannel ch) throws IOException {
        var out = new ByteArrayOutputStream();
        var buf = ByteBuffer.allocate(65536);
        while (ch.read(buf) >= 0) {
            out.write(buf.array(), 0, buf.position());
            buf.clear();
        }
        return out.toByteArray();
    }

    /** @return the raw reply for a request from {@code source} */
    public byte[] raw(String method, String arg, String source, String dest, byte[] payload) throws IOException {
        var head = (method + "+" + arg + " " + source + " name " + dest + "\0").getBytes(StandardCharsets.US_ASCII);
        var request = Arrays.copyOf(head, head.length + payload.length);
        System.arraycopy(payload, 0, request, head.length, payload.length);
        return send(request);
    }

    /** @return the reply to a call from {@code source} (dom0 or a qube), NULs shown as {@code |} */
    public String from(String source, String method, String arg, String dest, String payload) throws IOException {
        return new String(raw(method, arg, source, dest, payload.getBytes(StandardCharsets.UTF_8)),
                StandardCharsets.UTF_8).replace('\0', '|');
    }

    /** @return the reply from dom0's call, NULs shown as {@code |} */
    public String call(String method, String arg, String dest, String payload) throws IOException {
        return from("dom0", method, arg, dest, payload);
    }

    /** @return the value of a successful call; AssertionError with the reply otherwise */
    public String ok(String method, String arg, String dest, String payload) throws IOException {
        String r = call(method, arg, dest, payload);
        if (!r.startsWith("0|")) {
            throw new AssertionError(method + "+" + arg + " " + dest + " failed: " + r);
        }
        return r.substring(2);
    }

    /** @return the Qubes exception type of a failed call; AssertionError when it succeeded */
    public String error(String method, String arg, String dest, String payload) throws IOException {
        String r = call(method, arg, dest, payload);
        if (!r.startsWith("2|")) {
            throw new AssertionError(method + "+" + arg + " " + dest + " should have failed: " + r);
        }
        return r.split("\\|")[1];
    }

    /** @return the value of a qube's property as dom0 reads it, without {@code default=… type=…} */
    public String property(String qube, String property) throws IOException {
        String r = ok("admin.vm.property.Get", property, qube, "");
        return r.substring(r.indexOf(' ', r.indexOf("type=")) + 1);
    }
}
