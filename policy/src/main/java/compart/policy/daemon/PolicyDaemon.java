package compart.policy.daemon;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.policy.Policy;
import compart.policy.Resolution;
import compart.policy.SystemInfo;
import compart.policy.eval.Audit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the Qubes {@code qrexec-policy-daemon} protocol on a unix socket, so that Qubes' own
 * {@code qrexec-daemon} asks it for every call: one request per connection ({@code KEY=VALUE} lines and an
 * empty line), one answer ({@code user=…\nresult=allow\ntarget=…} or {@code result=deny}), then close.
 *
 * <p>Each connection runs on its own virtual thread. A request over {@value #MAX_REQUEST} bytes, a client that
 * does not finish its request within the stall timeout, and a malformed request (unknown or duplicate key, bad
 * boolean, missing key, not ASCII) are dropped: the connection is closed without an answer, which the qrexec
 * daemon treats as a refusal; other connections are not affected. An {@code ask} without
 * {@code assume_yes_for_ask} needs the user's answer from the policy agent of the caller's GUI qube, which this
 * daemon does not reach: it is denied, and the audit line says so.
 *
 * <p>Thread safe; {@link #close()} stops accepting and removes the socket file.
 */
public final class PolicyDaemon implements AutoCloseable {
    /** Largest request accepted, in bytes. */
    public static final int MAX_REQUEST = 64 * 1024;
    private static final Logger LOG = LoggerFactory.getLogger(PolicyDaemon.class);

    private final Path socket;
    private final Supplier<Policy> policy;
    private final Supplier<SystemInfo> system;
    private final Duration stallTimeout;
    private final ServerSocketChannel server;
    private final ExecutorService connections = Executors.newVirtualThreadPerTaskExecutor();
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("policy-daemon-watchdog").factory());
    private final Thread acceptor;
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();

    /**
     * Binds the socket (replacing a stale one), makes it mode 0660 and starts serving.
     *
     * @param socket       the socket path, {@code /run/qubes/policy.sock} on Qubes
     * @param policy       the policy to decide with, asked once per request (a {@code LivePolicy::current})
     * @param system       the state of the qubes, asked once per request
     * @param stallTimeout how long a client may take to send its request
     * @throws CompartException INVALID_STATE when the socket cannot be bound
     */
    public PolicyDaemon(Path socket, Supplier<Policy> policy, Supplier<SystemInfo> system, Duration stallTimeout) {
        this.socket = socket;
        this.policy = policy;
        this.system = system;
        this.stallTimeout = stallTimeout;
        try {
            Files.deleteIfExists(socket);
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
        } catch (IOException e) {
            throw new CompartException(ErrorKind.INVALID_STATE, "cannot listen on " + socket + ": " + e
                    + "; check that its directory exists and is writable, and that no other daemon uses it", e);
        }
        acceptor = Thread.ofPlatform().name("policy-daemon-accept").start(this::acceptLoop);
    }

    /** @return requests answered so far */
    public long answered() {
        return answered.get();
    }

    /** @return connections dropped without an answer so far */
    public long dropped() {
        return dropped.get();
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel client = server.accept();
                connections.submit(() -> serve(client));
            } catch (IOException e) {
                if (server.isOpen()) LOG.warn("policy daemon: accept failed: {}", e.toString());
            }
        }
    }

    private void serve(SocketChannel client) {
        ScheduledFuture<?> stall = watchdog.schedule(() -> closeQuietly(client), stallTimeout.toMillis(),
                TimeUnit.MILLISECONDS);
        try (client) {
            byte[] untrusted = readRequest(client);
            if (untrusted == null) {
                drop("request larger than " + MAX_REQUEST + " bytes");
                return;
            }
            if (!stall.cancel(false)) {
                drop("client stalled");
                return;
            }
            Object parsed = DaemonRequest.parse(untrusted);
            if (parsed instanceof DaemonRequest.Malformed m) {
                drop(m.reason());
                return;
            }
            String answer = answer((DaemonRequest) parsed);
            ByteBuffer out = ByteBuffer.wrap(answer.getBytes(StandardCharsets.US_ASCII));
            while (out.hasRemaining()) client.write(out);
            answered.incrementAndGet();
        } catch (IOException e) {
            drop(stall.isDone() ? "client stalled" : "connection failed: " + e.getMessage());
        } finally {
            stall.cancel(false);
        }
    }

    private void drop(String why) {
        dropped.incrementAndGet();
        LOG.error("error parsing policy request: {}", Audit.escape(why));
    }

    /** Reads up to the empty line (or end of stream); null when larger than {@link #MAX_REQUEST}. */
    private static byte[] readRequest(SocketChannel client) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream(256);
        ByteBuffer buf = ByteBuffer.allocate(4096);
        int previous = '\n';
        while (true) {
            buf.clear();
            int n = client.read(buf);
            if (n < 0) return got.toByteArray();
            for (int i = 0; i < n; i++) {
                byte b = buf.get(i);
                if (b == '\n' && previous == '\n') return got.toByteArray();
                got.write(b);
                previous = b;
                if (got.size() > MAX_REQUEST) return null;
            }
        }
    }

    /** The answer the Python daemon gives for the same request, and the audit line. */
    String answer(DaemonRequest r) {
        SystemInfo sys = system.get();
        Resolution res = policy.get().evaluate(r.request(), sys, r.assumeYesForAsk());
        String line = res.log();
        String answer = switch (res) {
            case Resolution.Allow a -> r.justEvaluate() ? "result=allow" : a.wire();
            case Resolution.Deny d -> "result=deny";
            case Resolution.Ask a -> {
                if (!r.justEvaluate()) {
                    line = Audit.escape(Audit.prefix(r.request().service() + r.request().argument(),
                            r.request().source(), r.request().target())
                            + " denied: ask needs the policy agent of the caller's GUI qube, which this daemon "
                            + "does not reach (" + a.rule() + ")");
                }
                yield "result=deny";
            }
        };
        Policy.audit(line);
        return answer;
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // already closing
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing {}: {}", socket, e.toString());
        }
        acceptor.interrupt();
        connections.shutdown();
        watchdog.shutdownNow();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.debug("removing {}: {}", socket, e.toString());
        }
    }
}
