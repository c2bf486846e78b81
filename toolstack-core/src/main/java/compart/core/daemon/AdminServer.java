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
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the Admin API on a unix socket, as qubesd does: one request per connection, the client closes its side
 * after the request, the server answers with one frame and closes ({@code admin.Events} keeps the connection and
 * streams event frames). Requests over 64 KiB are refused, except volume imports, whose payload (the volume's
 * data) is streamed into the volume. The accept loop only accepts: each connection is served
 * on its own virtual thread, and lifecycle work runs in the toolstack's queues.
 *
 * <p>Design (abuse). Every connection is registered with a deadline that a watchdog thread enforces by closing the
 * channel: the whole request must arrive within {@link ConnectionLimits#requestTimeout} of the accept (Qubes'
 * clients send it at once), a streamed payload must not pause longer than {@link ConnectionLimits#payloadTimeout},
 * and every reply or event write must progress within the request timeout. At most
 * {@link ConnectionLimits#maxConnections} connections are open per socket: at the limit the oldest connection that
 * has not sent its request yet is closed for the new one (an idle flood cannot lock dom0 out), and when all are
 * busy the new one is answered with an exception at once; {@code admin.Events} streams, which never end, may take
 * half of them. A failing accept (no file descriptors left) backs off and frees the oldest
 * idle connection. Each of these states is logged once when it begins and once when it ends, never per attempt.
 * Request bytes are read into a buffer that grows with what arrives (512 bytes first). An {@code admin.Events}
 * client more than {@link ConnectionLimits#eventsBacklog} events behind is sent an {@code connection-lagged} event
 * and disconnected, so Qubes' client reconnects and rereads what it caches.
 *
 * <p>Thread safe.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    private static final int FIRST_BUFFER = 512;
    private static final long NEVER = Long.MAX_VALUE;
    /** How long accepting must work again before the end of an episode of failures is logged. */
    private static final Duration RECOVERED = Duration.ofSeconds(5);
    /** File descriptors kept for everything but connections (images, state files, the policy, libraries). */
    private static final int RESERVED_FILES = 256;

    /**
     * How much a socket serves at once and how long it waits for a client.
     *
     * @param maxConnections most connections open at once on one socket (at least 1)
     * @param requestTimeout time for the whole request to arrive after the accept, and for each reply write to
     *                       progress
     * @param payloadTimeout longest pause in a streamed payload (a volume import)
     * @param eventsBacklog  most events queued for one {@code admin.Events} client before it is disconnected
     */
    public record ConnectionLimits(int maxConnections, Duration requestTimeout, Duration payloadTimeout,
                                   int eventsBacklog) {
        /** 1024 connections, 10 s for a request, 60 s of silence in a payload, 10,000 events behind. */
        public static final ConnectionLimits DEFAULT = new ConnectionLimits(1024, Duration.ofSeconds(10),
                Duration.ofSeconds(60), 10_000);

        /**
         * @param sockets   how many sockets serve with these limits
         * @param fileLimit the process's open file limit ({@code ulimit -n}), 0 when unknown
         * @return these limits, with fewer connections when {@code sockets} times them would not leave
         *         256 descriptors for the rest (accept would fail with "Too many open files")
         */
        public ConnectionLimits withinFileLimit(int sockets, long fileLimit) {
            long most = (fileLimit - RESERVED_FILES) / sockets;
            if (fileLimit <= 0 || maxConnections <= most) {
                return this;
            }
            return new ConnectionLimits((int) Math.max(1, most), requestTimeout, payloadTimeout, eventsBacklog);
        }

        /** @throws CompartException INVALID_VALUE when a limit is not positive */
        public ConnectionLimits {
            if (maxConnections < 1 || eventsBacklog < 1 || requestTimeout.isNegative() || requestTimeout.isZero()
                    || payloadTimeout.isNegative() || payloadTimeout.isZero()) {
                throw CompartException.invalidValue("connection limits must be positive: %d connections, request "
                        + "timeout %s, payload timeout %s, events backlog %d", maxConnections, requestTimeout,
                        payloadTimeout, eventsBacklog);
            }
        }
    }

    /** One open connection: the channel and when the watchdog closes it. */
    private static final class Connection {
        final SocketChannel ch;
        /** {@link System#nanoTime} after which the watchdog closes it; {@link #NEVER} while the daemon works. */
        volatile long deadline;
        /** Still reading its request: the first to go when the socket is full. */
        volatile boolean waitingForRequest = true;

        Connection(SocketChannel ch, long deadline) {
            this.ch = ch;
            this.deadline = deadline;
        }

        void closeQuietly() {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    private final Path socket;
    private final AdminApi api;
    private final EventBus events;
    private final ConnectionLimits limits;
    private final ServerSocketChannel server;
    private final ExecutorService connections = Executors.newVirtualThreadPerTaskExecutor();
    private final ConcurrentLinkedDeque<Connection> open = new ConcurrentLinkedDeque<>();
    private final AtomicInteger openCount = new AtomicInteger();
    /** Open {@code admin.Events} streams: at most half the connections, so calls always find room. */
    private final AtomicInteger streams = new AtomicInteger();
    private final AtomicBoolean full = new AtomicBoolean();
    private final AtomicLong turnedAway = new AtomicLong();
    private final AtomicLong timedOut = new AtomicLong();
    private final Thread acceptor;
    private final Thread watchdog;
    private volatile boolean closing;
    /** Serving the internal socket: only {@link AdminApi#handleInternal}. */
    private final boolean internal;

    /**
     * Binds the socket (removing a stale one), sets mode 0660 and group {@code qubes} when that group exists, and
     * starts accepting, with the {@link ConnectionLimits#DEFAULT default limits}.
     *
     * @param socket where to listen
     * @param api    the methods
     * @param events the event bus for {@code admin.Events}
     * @throws CompartException ALREADY_EXISTS when another daemon listens there, STORAGE when binding fails
     */
    public AdminServer(Path socket, AdminApi api, EventBus events) {
        this(socket, api, events, ConnectionLimits.DEFAULT, false);
    }

    /**
     * As {@link #AdminServer(Path, AdminApi, EventBus)}, with the given limits.
     *
     * @param limits connections, timeouts and events backlog of this socket
     */
    public AdminServer(Path socket, AdminApi api, EventBus events, ConnectionLimits limits) {
        this(socket, api, events, limits, false);
    }

    /**
     * Serves Qubes' internal socket ({@code /var/run/qubesd.internal.sock}): the same framing, size limit, mode
     * and group as the Admin API socket (qubesd creates both alike), but only the methods of
     * {@link AdminApi#handleInternal} ({@code internal.GetSystemInfo}, from dom0 only), for dom0 components such as
     * the qrexec policy daemon.
     *
     * @param socket where to listen
     * @param api    the methods
     * @param limits connections and timeouts of this socket
     * @return the running server
     * @throws CompartException as {@link #AdminServer(Path, AdminApi, EventBus)}
     */
    public static AdminServer internal(Path socket, AdminApi api, ConnectionLimits limits) {
        return new AdminServer(socket, api, null, limits, true);
    }

    private AdminServer(Path socket, AdminApi api, EventBus events, ConnectionLimits limits, boolean internal) {
        this.socket = socket;
        this.api = api;
        this.events = events;
        this.limits = limits;
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
            server.bind(UnixDomainSocketAddress.of(socket), 256);
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
        String name = internal ? "internal" : "admin";
        watchdog = Thread.ofPlatform().daemon().name("compartd-deadlines-" + name).start(this::enforceDeadlines);
        acceptor = Thread.ofPlatform().name("compartd-accept-" + name).start(this::acceptLoop);
        LOG.info("{} listening on {} (at most {} connections, {} ms for a request)", internal ? "internal API"
                : "Admin API", socket, limits.maxConnections(), limits.requestTimeout().toMillis());
    }

    /** @return the socket path */
    public Path socket() {
        return socket;
    }

    /** @return connections open now (for the daemon's figures and tests) */
    public int openConnections() {
        return openCount.get();
    }

    /** @return connections closed because the socket was full or their client was too slow, since the start */
    public long closedForAbuse() {
        return turnedAway.get() + timedOut.get();
    }

    private void acceptLoop() {
        int inARow = 0;
        long failed = 0;
        long lastFailure = 0;
        while (!closing) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closing) {
                    return;
                }
                if (failed++ == 0) {
                    LOG.warn("{}: accepting connections fails ({}): closing the oldest idle connection and retrying "
                            + "with back-off; logged again once it has worked for {} s", socket, e.getMessage(),
                            RECOVERED.toSeconds());
                }
                lastFailure = System.nanoTime();
                evictOldestIdle();
                backOff(++inARow);
                continue;
            }
            inARow = 0;
            if (failed > 0 && System.nanoTime() - lastFailure > RECOVERED.toNanos()) {
                LOG.info("{}: accepting connections works again, after {} failed attempts", socket, failed);
                failed = 0;
            }
            admit(ch);
        }
    }

    /** Sleeps 10 ms after the first failure, doubling up to 1 s. */
    private static void backOff(int failures) {
        try {
            Thread.sleep(Math.min(1000L, 10L << Math.min(failures - 1, 7)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Registers an accepted connection and serves it, making room (or refusing it) at the limit. */
    private void admit(SocketChannel ch) {
        if (openCount.get() >= limits.maxConnections() && !evictOldestIdle()) {
            turnedAway.incrementAndGet();
            noteFull();
            refuse(ch);
            return;
        }
        if (openCount.get() >= limits.maxConnections() - 1) {
            noteFull();
        }
        var c = new Connection(ch, System.nanoTime() + limits.requestTimeout().toNanos());
        open.add(c);
        openCount.incrementAndGet();
        try {
            connections.submit(() -> serve(c));
        } catch (RejectedExecutionException e) {
            forget(c);
            c.closeQuietly();
        }
    }

    /**
     * Answers a connection the full socket cannot serve, without blocking the accept loop: an exception frame, then
     * what the client has sent already is read (so closing does not reset its connection before it reads).
     */
    private void refuse(SocketChannel ch) {
        try (ch) {
            ch.configureBlocking(false);
            ch.write(ByteBuffer.wrap(AdminReply.exception("QubesException", "compartd serves " + limits.maxConnections()
                    + " connections on this socket, its limit, and none is idle: try again later")));
            ch.shutdownOutput();
            var sink = ByteBuffer.allocate(FIRST_BUFFER);
            for (int i = 0; i < 128 && ch.read(sink) > 0; i++) {
                sink.clear();
            }
        } catch (IOException ignored) {
            // refused anyway
        }
    }

    private void noteFull() {
        if (full.compareAndSet(false, true)) {
            LOG.warn("{}: {} connections open, the limit: closing the oldest that has not sent its request for each "
                    + "new one (refusing new ones when none is idle); logged again when it drains", socket,
                    limits.maxConnections());
        }
    }

    /** Closes the oldest connection still waiting for its request. @return whether there was one */
    private boolean evictOldestIdle() {
        for (var c : open) {
            if (c.waitingForRequest && open.remove(c)) {
                openCount.decrementAndGet();
                turnedAway.incrementAndGet();
                c.closeQuietly();
                return true;
            }
        }
        return false;
    }

    private void forget(Connection c) {
        if (open.remove(c)) {
            openCount.decrementAndGet();
        }
        if (openCount.get() < limits.maxConnections() * 3 / 4 && full.compareAndSet(true, false)) {
            LOG.info("{}: back to {} open connections; {} were closed or refused while it was full", socket,
                    openCount.get(), turnedAway.get());
        }
    }

    /** The watchdog: closes connections past their deadline, a few times per request timeout. */
    private void enforceDeadlines() {
        long tick = Math.max(10, Math.min(250, limits.requestTimeout().toMillis() / 4));
        while (!closing) {
            try {
                Thread.sleep(tick);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            int closed = 0;
            for (var c : open) {
                long d = c.deadline;
                if (d != NEVER && now - d > 0) {
                    c.closeQuietly();
                    closed++;
                }
            }
            if (closed > 0) {
                timedOut.addAndGet(closed);
                LOG.debug("{}: closed {} connections past their deadline", socket, closed);
            }
        }
    }

    private void serve(Connection c) {
        var ch = c.ch;
        try (ch) {
            var head = new RequestBytes();
            int nul = head.readHeader(ch);
            if (internal) {
                serveInternal(c, head);
                return;
            }
            if (nul >= 0 && head.method(nul).equals(QrexecRun.METHOD)) {
                c.waitingForRequest = false;
                c.deadline = NEVER;
                serveRun(c, head, nul);
                return;
            }
            if (nul >= 0 && AdminApi.streamsPayload(head.method(nul))) {
                c.waitingForRequest = false;
                serveImport(c, head, nul);
                return;
            }
            AdminRequest request = readRequest(c, head, "");
            if (request == null) {
                return;
            }
            if (request.method().equals("admin.Events")) {
                streamEvents(c, request);
                return;
            }
            write(c, api.handle(request));
            ch.shutdownOutput();
        } catch (IOException e) {
            LOG.debug("connection ended: {}", e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("serving a connection failed", e);
        } finally {
            forget(c);
        }
    }

    /** One request of the internal socket: read whole (at most 64 KiB), answered by {@link AdminApi#handleInternal}. */
    private void serveInternal(Connection c, RequestBytes head) throws IOException {
        AdminRequest request = readRequest(c, head, "internal socket: ");
        if (request == null) {
            return;
        }
        write(c, api.handleInternal(request));
        c.ch.shutdownOutput();
    }

    /**
     * Reads the rest of a request (at most {@link AdminRequest#MAX_SIZE} bytes), ends its deadline and parses its
     * framing.
     *
     * @param where prefix of the log lines ({@code ""} or {@code "internal socket: "})
     * @return the request, or null when it was too long or badly framed and a ProtocolError has been answered
     */
    private AdminRequest readRequest(Connection c, RequestBytes head, String where) throws IOException {
        byte[] untrusted = head.readRest(c.ch);
        c.waitingForRequest = false;
        c.deadline = NEVER;
        if (untrusted == null) {
            LOG.warn("{}request too long (over {} bytes): refused", where, AdminRequest.MAX_SIZE);
            write(c, AdminReply.exception("ProtocolError", "request too long: at most "
                    + AdminRequest.MAX_SIZE + " bytes"));
            c.ch.shutdownOutput();
            drain(c);
            return null;
        }
        if (untrusted.length == 0) {
            return null; // connected and closed without a word: nothing to answer or log
        }
        try {
            return AdminRequest.parse(untrusted);
        } catch (CompartException e) {
            LOG.warn("{}request refused: {}", where, e.getMessage());
            write(c, AdminReply.exception("ProtocolError", e.getMessage()));
            return null;
        }
    }

    /**
     * A volume import: the payload after the header is streamed into the volume, each read allowed to wait at most
     * {@link ConnectionLimits#payloadTimeout} (a stalled client fails its import and frees the qube's queue).
     */
    private void serveImport(Connection c, RequestBytes head, int nul) throws IOException {
        AdminRequest request = headerOf(c, head, nul);
        if (request == null) {
            return;
        }
        // the volume may close what it reads: that must not close the connection the reply goes to
        write(c, api.handleStream(request, payload(c, head, nul, limits.payloadTimeout().toNanos())));
        c.ch.shutdownOutput();
        drain(c); // what a refused import did not read, so the client gets the reply, not a reset
    }

    /** @return the request of a header read alone, or null when it is badly framed and a ProtocolError answered */
    private AdminRequest headerOf(Connection c, RequestBytes head, int nul) throws IOException {
        try {
            return AdminRequest.parse(head.header(nul));
        } catch (CompartException e) {
            LOG.warn("request refused: {}", e.getMessage());
            write(c, AdminReply.exception("ProtocolError", e.getMessage()));
            return null;
        }
    }

    /**
     * The payload after the header: what was read with it, then the channel, read in blocks (never closed by its
     * reader). SocketChannel allows one reader and one writer at once, so output may be written meanwhile (Channels'
     * streams would share the blocking lock).
     *
     * @param pause longest wait of one read, in nanoseconds, before the watchdog closes the connection; {@link #NEVER}
     *              for none (an interactive command's stdin)
     */
    private static InputStream payload(Connection c, RequestBytes head, int nul, long pause) {
        var rest = new BulkReadStream() {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                if (pause == NEVER) {
                    return c.ch.read(ByteBuffer.wrap(b, off, len));
                }
                c.deadline = System.nanoTime() + pause;
                try {
                    return c.ch.read(ByteBuffer.wrap(b, off, len));
                } finally {
                    c.deadline = NEVER;
                }
            }
        };
        return new SequenceInputStream(head.after(nul), rest);
    }

    /** {@code internal.vm.Run}: frames both ways until the remote command ends (see {@link compart.core.api.QrexecRun}). */
    private void serveRun(Connection c, RequestBytes head, int nul) throws IOException {
        AdminRequest request = headerOf(c, head, nul);
        if (request == null) {
            return;
        }
        var in = payload(c, head, nul, NEVER);
        var out = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                AdminServer.this.write(c, Arrays.copyOfRange(b, off, off + len));
            }
        };
        api.serveRun(request, in, out);
        c.ch.shutdownOutput();
    }

    /**
     * The bytes of one request as they arrive: a buffer of 512 bytes that doubles when full, up to
     * {@link AdminRequest#MAX_SIZE} + 1 (one byte more tells a request that is too long). Not thread safe.
     */
    private static final class RequestBytes {
        private ByteBuffer buf = ByteBuffer.allocate(FIRST_BUFFER);

        /** Reads more, growing the buffer when full. @return false at the end of the request or the size limit */
        boolean readMore(SocketChannel ch) throws IOException {
            if (!buf.hasRemaining()) {
                if (buf.capacity() > AdminRequest.MAX_SIZE) {
                    return false;
                }
                var bigger = ByteBuffer.allocate(Math.min(buf.capacity() * 2, AdminRequest.MAX_SIZE + 1));
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
            return ch.read(buf) >= 0;
        }

        /** Reads until the header's NUL, the end of the request or the size limit. @return the NUL's index, or -1 */
        int readHeader(SocketChannel ch) throws IOException {
            int scanned = 0;
            while (true) {
                for (; scanned < buf.position(); scanned++) {
                    if (buf.get(scanned) == 0) {
                        return scanned;
                    }
                }
                if (!readMore(ch)) {
                    return -1;
                }
            }
        }

        /** @return the whole request (what was read plus the rest), or null when it is longer than allowed */
        byte[] readRest(SocketChannel ch) throws IOException {
            while (readMore(ch)) {
                // until the client closes its side
            }
            if (buf.position() > AdminRequest.MAX_SIZE) {
                return null;
            }
            return Arrays.copyOf(buf.array(), buf.position());
        }

        String method(int nul) {
            int end = 0;
            while (end < nul && buf.get(end) != ' ' && buf.get(end) != '+') {
                end++;
            }
            return new String(buf.array(), 0, end, StandardCharsets.US_ASCII);
        }

        byte[] header(int nul) {
            return Arrays.copyOf(buf.array(), nul + 1);
        }

        /** @return what was read after the header's NUL */
        ByteArrayInputStream after(int nul) {
            return new ByteArrayInputStream(buf.array(), nul + 1, buf.position() - nul - 1);
        }
    }

    /** Reads and drops what the client still sends (up to 16 MiB, within the payload timeout per read). */
    private void drain(Connection c) throws IOException {
        var buf = ByteBuffer.allocate(8192);
        long total = 0;
        while (total < 16L << 20) {
            buf.clear();
            c.deadline = System.nanoTime() + limits.payloadTimeout().toNanos();
            int n = c.ch.read(buf);
            c.deadline = NEVER;
            if (n < 0) {
                return;
            }
            total += n;
        }
    }

    /** Writes a whole frame; each write must progress within the request timeout, or the watchdog closes it. */
    private void write(Connection c, byte[] frame) throws IOException {
        var b = ByteBuffer.wrap(frame);
        try {
            while (b.hasRemaining()) {
                c.deadline = System.nanoTime() + limits.requestTimeout().toNanos();
                c.ch.write(b);
            }
        } finally {
            c.deadline = NEVER;
        }
    }

    private void streamEvents(Connection c, AdminRequest request) throws IOException {
        // the same checks as every method (source, destination, no arg or payload)
        var check = api.handle(request);
        if (check[0] != '0') {
            write(c, check);
            return;
        }
        int most = Math.max(1, limits.maxConnections() / 2);
        if (streams.incrementAndGet() > most) {
            streams.decrementAndGet();
            write(c, AdminReply.exception("QubesException", "compartd streams events to " + most + " clients, its "
                    + "limit (half its connections, so calls always have room): close one first"));
            return;
        }
        try {
            stream(c, request);
        } finally {
            streams.decrementAndGet();
        }
    }

    private void stream(Connection c, AdminRequest request) throws IOException {
        String only = request.dest().equals("dom0") ? null : request.dest();
        var queue = new ArrayBlockingQueue<byte[]>(limits.eventsBacklog());
        var lagged = new AtomicBoolean();
        try (var sub = events.subscribe(e -> {
            if (only == null || only.equals(e.subject())) {
                if (!queue.offer(AdminReply.event(e.subject(), e.name(), e.kwargs()))) {
                    lagged.set(true);
                    throw new IllegalStateException("events client too slow"); // unsubscribes it
                }
            }
        })) {
            write(c, AdminReply.event("", "connection-established", Map.of()));
            while (!closing && c.ch.isOpen()) {
                byte[] frame = queue.poll(1, TimeUnit.SECONDS);
                if (frame != null) {
                    write(c, frame);
                }
                if (lagged.get() && queue.isEmpty()) {
                    break;
                }
            }
            if (lagged.get()) {
                LOG.warn("{}: admin.Events client of {} fell {} events behind: told it and disconnected it (Qubes' "
                        + "client reconnects)", socket, request.source(), limits.eventsBacklog());
                write(c, AdminReply.event("", "connection-lagged", Map.of("reason", "more than "
                        + limits.eventsBacklog() + " events behind; events after that are lost: reconnect")));
                c.ch.shutdownOutput();
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
        for (var c : open) {
            c.closeQuietly();
        }
        watchdog.interrupt();
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
