package compart.cli.client;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * The Admin API's wire protocol on compartd's unix socket, spoken the way Qubes' own client speaks it to qubesd:
 * one connection per call; the client sends {@code METHOD+ARG dom0 name DEST\0} and the payload, shuts down its
 * write side and reads the answer to the end. The answer is {@code 0\0PAYLOAD} or
 * {@code 2\0TYPE\0TRACEBACK\0FORMAT\0ARG\0...}.
 *
 * <p>Instances are immutable and thread safe: each call opens its own connection.
 */
public final class AdminSocket {
    /** Where qubesd (and compartd) listen unless told otherwise. */
    public static final Path DEFAULT_PATH = Path.of("/var/run/qubesd.sock");

    private static final String HOW_TO_START =
            "start it with `bin/compartd --hypervisor test` (a simulated host) or `systemctl start compartd`, "
            + "or point --socket / COMPART_SOCKET at its socket";

    private final Path path;
    private final UnixDomainSocketAddress address;

    /** @param path the daemon's socket */
    public AdminSocket(Path path) {
        this.path = Objects.requireNonNull(path, "path");
        this.address = UnixDomainSocketAddress.of(path);
    }

    /** @return the socket this client connects to */
    public Path path() {
        return path;
    }

    /**
     * Calls one Admin API method.
     *
     * @param dest    the destination qube's name ({@code dom0} for global methods)
     * @param method  the method, like {@code admin.vm.List}
     * @param arg     the argument, or null for none
     * @param payload the payload, or null for none
     * @return the daemon's answer
     * @throws CompartException NOT_FOUND / INVALID_STATE / PERMISSION_DENIED when the daemon cannot be reached
     *                          (the message says how to start it), PROTOCOL when the answer is malformed,
     *                          INVALID_VALUE when a name cannot be put in a request header
     */
    public Reply call(String dest, String method, String arg, byte[] payload) {
        return exchange(dest, method, arg, channel -> {
            if (payload != null && payload.length > 0) {
                writeAll(channel, payload);
            }
        });
    }

    /**
     * Calls a method whose payload is streamed: {@code head}, then {@code body} to its end (volume import).
     *
     * @param progress told the number of body bytes sent so far, after each chunk
     * @return the daemon's answer
     * @throws CompartException as {@link #call}; STORAGE when reading {@code body} fails
     */
    public Reply stream(String dest, String method, String arg, byte[] head, InputStream body,
                        LongConsumer progress) {
        return exchange(dest, method, arg, channel -> {
            writeAll(channel, head);
            byte[] chunk = new byte[1 << 20];
            long sent = 0;
            for (int n; (n = readBody(body, chunk)) > 0; ) {
                ByteBuffer buffer = ByteBuffer.wrap(chunk, 0, n);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                sent += n;
                progress.accept(sent);
            }
        });
    }

    /** What a call sends after its header. */
    private interface RequestBody {
        void send(SocketChannel channel) throws IOException;
    }

    /** One connection: the header, then {@code body}, then the write side shut and the answer read to the end. */
    private Reply exchange(String dest, String method, String arg, RequestBody body) {
        byte[] header = header(dest, method, arg);
        byte[] answer;
        try (SocketChannel channel = connect()) {
            writeAll(channel, header);
            body.send(channel);
            channel.shutdownOutput();
            answer = readAll(channel);
        } catch (IOException e) {
            throw new CompartException(ErrorKind.PROTOCOL,
                    "lost the connection to compartd at " + path + " during " + method + ": " + e.getMessage(), e);
        }
        return parse(answer);
    }

    private static int readBody(InputStream body, byte[] chunk) {
        try {
            return body.readNBytes(chunk, 0, chunk.length);
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot read the data to import: " + e.getMessage(), e);
        }
    }

    /** The request header; every part must be printable ASCII without spaces (qubesd's framing). */
    static byte[] header(String dest, String method, String arg) {
        requireToken("method", method, false);
        requireToken("qube name", dest, false);
        requireToken("argument", arg == null ? "" : arg, true);
        return (method + "+" + (arg == null ? "" : arg) + " dom0 name " + dest + "\0")
                .getBytes(StandardCharsets.US_ASCII);
    }

    private static void requireToken(String what, String value, boolean mayBeEmpty) {
        if (value == null || (!mayBeEmpty && value.isEmpty())) {
            throw CompartException.invalidValue("the %s of an Admin API call must not be empty", what);
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw CompartException.invalidValue(
                        "%s %s cannot be sent to compartd: only printable ASCII without spaces is allowed",
                        what, printable(value));
            }
        }
    }

    /** @return a connection to the daemon (for {@link RemoteRun}); the caller closes it */
    SocketChannel open() {
        return connect();
    }

    private SocketChannel connect() {
        SocketChannel channel = null;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(address);
            return channel;
        } catch (IOException e) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // the connect failure is what the user needs to see
                }
            }
            throw unreachable(e);
        }
    }

    private CompartException unreachable(IOException e) {
        if (!Files.exists(path)) {
            return new CompartException(ErrorKind.NOT_FOUND,
                    "cannot reach compartd: no socket at " + path + " (the daemon is not running?); " + HOW_TO_START, e);
        }
        String reason = String.valueOf(e.getMessage());
        if (reason.contains("ermission")) {
            return new CompartException(ErrorKind.PERMISSION_DENIED,
                    "cannot reach compartd: permission denied on " + path
                    + "; run as root or as a member of the socket's group", e);
        }
        if (reason.contains("efused")) {
            return new CompartException(ErrorKind.INVALID_STATE,
                    "cannot reach compartd: connection refused on " + path + " (a stale socket: the daemon is not "
                    + "running); " + HOW_TO_START, e);
        }
        return new CompartException(ErrorKind.INVALID_STATE,
                "cannot reach compartd at " + path + ": " + reason + "; " + HOW_TO_START, e);
    }

    private static void writeAll(SocketChannel channel, byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private static byte[] readAll(SocketChannel channel) throws IOException {
        var out = new ByteArrayOutputStream(4096);
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        while (channel.read(buffer) >= 0) {
            out.write(buffer.array(), 0, buffer.position());
            buffer.clear();
        }
        return out.toByteArray();
    }

    /**
     * Parses one answer as qubesadmin does.
     *
     * @param answer all bytes the daemon sent
     * @return the reply
     * @throws CompartException PROTOCOL when the answer is empty or malformed
     */
    static Reply parse(byte[] answer) {
        if (answer.length == 0) {
            throw new CompartException(ErrorKind.PROTOCOL,
                    "compartd closed the connection without an answer; see its log (journalctl -u compartd)");
        }
        if (answer.length >= 2 && answer[1] == 0 && answer[0] == '0') {
            return new Reply.Ok(Arrays.copyOfRange(answer, 2, answer.length));
        }
        if (answer.length >= 2 && answer[1] == 0 && answer[0] == '2') {
            List<String> fields = split(answer, 2);
            if (fields.size() < 4) {
                throw new CompartException(ErrorKind.PROTOCOL,
                        "compartd sent a malformed error answer (" + fields.size() + " fields, expected at least 4)");
            }
            // TYPE, TRACEBACK, FORMAT, then each argument terminated by \0: the last field is the empty tail
            List<String> args = fields.subList(3, fields.size() - 1);
            return new Reply.Failure(fields.get(0), PercentFormat.apply(fields.get(2), args), fields.get(1));
        }
        throw new CompartException(ErrorKind.PROTOCOL, "compartd sent an answer of unknown type (first byte 0x"
                + Integer.toHexString(answer[0] & 0xff) + "); is " + "this socket really an Admin API socket?");
    }

    private static List<String> split(byte[] bytes, int from) {
        List<String> fields = new ArrayList<>();
        int start = from;
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                fields.add(new String(bytes, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        fields.add(new String(bytes, start, bytes.length - start, StandardCharsets.UTF_8));
        return fields;
    }

    static String printable(String s) {
        var b = new StringBuilder("'");
        s.codePoints().limit(64).forEach(c -> b.appendCodePoint(c >= 0x20 && c < 0x7f ? c : '?'));
        return b.append(s.length() > 64 ? "…'" : "'").toString();
    }
}
