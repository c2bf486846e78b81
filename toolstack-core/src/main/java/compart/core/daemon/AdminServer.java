package compart.core.daemon;

import compart.core.api.AdminApi;
import compart.core.api.AdminReply;
import compart.core.api.AdminRequest;
import compart.core.api.BulkReadStream;
import compart.core.api.QrexecRun;
import compart.core.ops.EventBus;
import compart.core.ops.QubeEvent;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the Admin API on a unix socket, as qubesd does: one request per connection, the client closes its side
 * after the request, the server answers with one frame and closes ({@code admin.Events} keeps the connection and
 * streams event frames). Requests over 64 KiB are refused, except volume imports, whose payload (the volume's
 * data) is streamed into the volume. The accept loop only accepts: each connection is served
 * on its own virtual thread, and lifecycle work runs in the toolstack's queues.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

    private final Path socket;
    private final AdminApi api;
    private final EventBus events;
    private final ServerSocketChannel server;
    private final ExecutorService connections = Executors.newVirtualThreadPerTaskExecutor();
    private final Thread acceptor;
    private volatile boolean closing;
    /** Serving the internal socket: only {@link AdminApi#handleInternal}. */
    private final boolean internal;

    /**
     * Binds the socket (removing a stale one), sets mode 0660 and group {@code qubes} when that group exists, and
     * starts accepting.
     *
     * @param socket where to listen
     * @param api    the methods
     * @param events the event bus for {@code admin.Events}
     * @throws CompartException ALREADY_EXISTS when another daemon listens there, STORAGE when binding fails
     */
    public AdminServer(Path socket, AdminApi api, EventBus events) {
        this(socket, api, events, false);
    }

    /**
     * Serves Qubes' internal socket ({@code /var/run/qubesd.internal.sock}): the same framing, size limit, mode
     * and group as the Admin API socket (qubesd creates both alike), but only the methods of
     * {@link AdminApi#handleInternal} ({@code internal.GetSystemInfo}, from dom0 only), for dom0 components such as
     * the qrexec policy daemon.
     *
     * @param socket where to listen
     * @param api    the methods
     * @return the running server
     * @throws CompartException as {@link #AdminServer(Path, AdminApi, EventBus)}
     */
    public static AdminServer internal(Path socket, AdminApi api) {
        return new AdminServer(socket, api, null, true);
    }

    private AdminServer(Path socket, AdminApi api, EventBus events, boolean internal) {
        this.socket = socket;
        this.api = api;
        this.events = events;
        this.internal = internal;
        try {
            Files.createDirectories(socket.toAbsolutePath().getParent());
            if (Files.exists(socket)) {
                try (var probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    throw new CompartException(ErrorKind.ALREADY_EXISTS, "another daemon listens on " + socket
                            + ": stop it first");
                } catch (IOException stale) {
                    Files.delete(socket);
                    LOG.info("removed stale socket {}", socket);
                }
            }
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
            try {
                GroupPrincipal qubes = socket.getFileSystem().getUserPrincipalLookupService()
                        .lookupPrincipalByGroupName("qubes");
                Files.getFileAttributeView(socket, PosixFileAttributeView.class).setGroup(qubes);
            } catch (IOException | UnsupportedOperationException e) {
                LOG.warn("socket {}: group 'qubes' not set ({}); only its owner can connect", socket, e.getMessage());
            }
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot listen on " + socket + ": " + e.getMessage(), e);
        }
        acceptor = Thread.ofPlatform().name(internal ? "compartd-accept-internal" : "compartd-accept")
                .start(this::acceptLoop);
        LOG.info("{} listening on {}", internal ? "internal API" : "Admin API", socket);
    }

    /** @return the socket path */
    public Path socket() {
        return socket;
    }

    private void acceptLoop() {
        while (!closing) {
            try {
                SocketChannel ch = server.accept();
                connections.submit(() -> serve(ch));
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closing) {
                    LOG.error("accept failed: {}", e.getMessage());
                }
            } catch (RejectedExecutionException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel ch) {
        try (ch) {
            var head = ByteBuffer.allocate(AdminRequest.MAX_SIZE + 1);
            int nul = readHeader(ch, head);
            if (internal) {
                serveInternal(ch, head);
                return;
            }
            if (nul >= 0 && headerMethod(head, nul).equals(QrexecRun.METHOD)) {
                serveRun(ch, head, nul);
                return;
            }
            if (nul >= 0 && AdminApi.streamsPayload(headerMethod(head, nul))) {
                AdminRequest request;
                try {
                    request = AdminRequest.parse(Arrays.copyOf(head.array(), nul + 1));
                } catch (CompartException e) {
                    LOG.warn("framing error: {}", e.getMessage());
                    write(ch, AdminReply.exception("ProtocolError", e.getMessage()));
                    return;
                }
                // the volume may close what it reads: that must not close the connection the reply goes to
                var rest = new FilterInputStream(Channels.newInputStream(ch)) {
                    @Override
                    public void close() {
                    }
                };
                var data = new SequenceInputStream(new ByteArrayInputStream(head.array(), nul + 1,
                        head.position() - nul - 1), rest);
                write(ch, api.handleStream(request, data));
                ch.shutdownOutput();
                drain(ch); // what a refused import did not read, so the client gets the reply, not a reset
                return;
            }
            AdminRequest request = readRequest(ch, head, "");
            if (request == null) {
                return;
            }
            if (request.method().equals("admin.Events")) {
                streamEvents(ch, request);
                return;
            }
            write(ch, api.handle(request));
            ch.shutdownOutput();
        } catch (IOException e) {
            LOG.debug("connection ended: {}", e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("serving a connection failed", e);
        }
    }

    /** One request of the internal socket: read whole (at most 64 KiB), answered by {@link AdminApi#handleInternal}. */
    private void serveInternal(SocketChannel ch, ByteBuffer head) throws IOException {
        AdminRequest request = readRequest(ch, head, "internal socket: ");
        if (request == null) {
            return;
        }
        write(ch, api.handleInternal(request));
        ch.shutdownOutput();
    }

    /**
     * Reads the rest of a request (at most {@link AdminRequest#MAX_SIZE} bytes) and parses its framing.
     *
     * @param where prefix of the log lines ({@code ""} or {@code "internal socket: "})
     * @return the request, or null when it was too long or badly framed and a ProtocolError has been answered
     */
    private AdminRequest readRequest(SocketChannel ch, ByteBuffer head, String where) throws IOException {
        byte[] untrusted = readRest(ch, head);
        if (untrusted == null) {
            LOG.warn("{}request too long (over {} bytes): refused", where, AdminRequest.MAX_SIZE);
            write(ch, AdminReply.exception("ProtocolError", "request too long: at most "
                    + AdminRequest.MAX_SIZE + " bytes"));
            ch.shutdownOutput();
            drain(ch);
            return null;
        }
        try {
            return AdminRequest.parse(untrusted);
        } catch (CompartException e) {
            LOG.warn("{}framing error: {}", where, e.getMessage());
            write(ch, AdminReply.exception("ProtocolError", e.getMessage()));
            return null;
        }
    }

    /** {@code internal.vm.Run}: frames both ways until the remote command ends (see {@link compart.core.api.QrexecRun}). */
    private void serveRun(SocketChannel ch, ByteBuffer head, int nul) throws IOException {
        AdminRequest request;
        try {
            request = AdminRequest.parse(Arrays.copyOf(head.array(), nul + 1));
        } catch (CompartException e) {
            write(ch, AdminReply.exception("ProtocolError", e.getMessage()));
            return;
        }
        // stdin is read on one thread while output is written on others: SocketChannel allows one reader and one
        // writer at once (Channels' streams would share the blocking lock)
        var rest = new BulkReadStream() {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return len == 0 ? 0 : ch.read(ByteBuffer.wrap(b, off, len));
            }
        };
        var in = new SequenceInputStream(new ByteArrayInputStream(head.array(), nul + 1,
                head.position() - nul - 1), rest);
        var out = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                AdminServer.write(ch, Arrays.copyOfRange(b, off, off + len));
            }
        };
        api.serveRun(request, in, out);
        ch.shutdownOutput();
    }

    /** Reads until the header's NUL, the end of the request or the size limit. @return the NUL's index, or -1 */
    private static int readHeader(SocketChannel ch, ByteBuffer buf) throws IOException {
        int scanned = 0;
        while (true) {
            for (; scanned < buf.position(); scanned++) {
                if (buf.get(scanned) == 0) {
                    return scanned;
                }
            }
            if (!buf.hasRemaining() || ch.read(buf) < 0) {
                return -1;
            }
        }
    }

    private static String headerMethod(ByteBuffer buf, int nul) {
        int end = 0;
        while (end < nul && buf.get(end) != ' ' && buf.get(end) != '+') {
            end++;
        }
        return new String(buf.array(), 0, end, StandardCharsets.US_ASCII);
    }

    /** @return the whole request (what was read plus the rest), or null when it is longer than allowed */
    private static byte[] readRest(SocketChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            if (ch.read(buf) < 0) {
                break;
            }
        }
        if (!buf.hasRemaining()) {
            return null;
        }
        return Arrays.copyOf(buf.array(), buf.position());
    }

    /** Reads and drops what the client still sends (up to 16 MiB), so it gets the reply instead of a reset. */
    private static void drain(SocketChannel ch) throws IOException {
        var buf = ByteBuffer.allocate(65536);
        long total = 0;
        while (total < 16L << 20) {
            buf.clear();
            int n = ch.read(buf);
            if (n < 0) {
                return;
            }
            total += n;
        }
    }

    private static void write(SocketChannel ch, byte[] frame) throws IOException {
        var b = ByteBuffer.wrap(frame);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private void streamEvents(SocketChannel ch, AdminRequest request) throws IOException {
        // the same checks as every method (source, destination, no arg or payload)
        var check = api.handle(request);
        if (check[0] != '0') {
            write(ch, check);
            return;
        }
        String only = request.dest().equals("dom0") ? null : request.dest();
        var queue = new LinkedBlockingQueue<byte[]>(10000);
        try (var sub = events.subscribe(e -> {
            if (only == null || only.equals(e.subject())) {
                if (!queue.offer(AdminReply.event(e.subject(), e.name(), e.kwargs()))) {
                    throw new IllegalStateException("events client too slow");
                }
            }
        })) {
            write(ch, AdminReply.event("", "connection-established", Map.of()));
            while (!closing && ch.isOpen()) {
                byte[] frame = queue.poll(1, TimeUnit.SECONDS);
                if (frame != null) {
                    write(ch, frame);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.debug("events connection ended: {}", e.getMessage());
        }
    }

    /** Publishes an event to the {@code admin.Events} clients (for tests and the daemon). */
    void publish(QubeEvent e) {
        events.publish(e);
    }

    @Override
    public void close() {
        closing = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        connections.shutdownNow();
        try {
            acceptor.join(2000);
            Files.deleteIfExists(socket);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            LOG.warn("could not remove {}: {}", socket, e.getMessage());
        }
    }
}
