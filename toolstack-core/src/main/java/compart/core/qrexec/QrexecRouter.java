package compart.core.qrexec;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.policy.Policy;
import compart.policy.Request;
import compart.policy.Resolution;
import compart.policy.SystemInfo;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * Decides and connects qrexec calls: every service call a qube asks for is decided by the qrexec policy (deny by
 * default, {@code ask} refused as Qubes does without a GUI, one audit line per decision), and an allowed call
 * gets a data vchan from dom0 to each agent with the messages relayed between them. An allowed target that is
 * not running is started first ({@link Targets}); {@code @dispvm} gets a new disposable, which is killed and
 * removed when the call ends, as in Qubes. Commands and service calls from dom0 ({@link #run}) use the same
 * channels.
 *
 * <p>Design: dom0 is the vchan server of every data channel (agents are clients), so no qube maps another
 * qube's memory and dom0 sees, and can bound, every message. Ports are allocated per peer domain from 513.
 * Thread-safe: each call runs on its own platform threads (vchan calls are native).
 */
public final class QrexecRouter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QrexecRouter.class);
    private static final Duration CONNECT = Duration.ofSeconds(30);
    private static final int FIRST_DATA_PORT = MessageCodec.CONTROL_PORT + 1;
    private static final int PORTS = 1024;

    private final Supplier<Policy> policy;
    private final Supplier<SystemInfo> system;
    private final Consumer<Resolution> decisions;
    private final Map<String, QrexecDaemon> daemons = new ConcurrentHashMap<>();
    private final Map<Integer, BitSet> ports = new ConcurrentHashMap<>();
    private volatile Targets targets;

    /**
     * How the router gets a call's target running: the toolstack's lifecycle operations (the router sits below
     * them, so they are handed in with {@link #targets(Targets)}).
     */
    public interface Targets {
        /**
         * Creates a disposable of {@code base} for {@code caller}, starts it and waits for its agent.
         *
         * @return the disposable's name
         * @throws CompartException when it cannot be created or started (nothing is left behind)
         */
        String startDisposable(String base, String caller);

        /** Starts (or unpauses) {@code qube} if needed and waits for its agent. */
        void startForCall(String qube);

        /** Kills and removes a disposable made by {@link #startDisposable}; never throws for one already gone. */
        void dispose(String qube);
    }

    /**
     * @param policy    the current policy (e.g. {@code LivePolicy::current}); null from it denies every call
     * @param system    what the policy needs to know about the qubes, at the time of each call
     * @param decisions sees each decision after it was audited (tests, metrics); may be a no-op
     */
    public QrexecRouter(Supplier<Policy> policy, Supplier<SystemInfo> system, Consumer<Resolution> decisions) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.system = Objects.requireNonNull(system, "system");
        this.decisions = Objects.requireNonNull(decisions, "decisions");
    }

    /** Sets how targets are started ({@code @dispvm}, autostart); until then such calls are refused. */
    public void targets(Targets t) {
        this.targets = Objects.requireNonNull(t, "targets");
    }

    /**
     * Connects to the agent of a running qube and serves its calls until {@link #detach} (start plan: after the
     * domain is unpaused).
     */
    public QrexecDaemon attach(String qube, int domid, Duration timeout) throws InterruptedException {
        return attach(qube, domid, timeout, () -> true);
    }

    /** As {@link #attach(String, int, Duration)}, giving up when {@code domainAlive} says the domain is gone. */
    public QrexecDaemon attach(String qube, int domid, Duration timeout, BooleanSupplier domainAlive)
            throws InterruptedException {
        var holder = new QrexecDaemon[1];
        var daemon = QrexecDaemon.connect(qube, domid, timeout, domainAlive, t -> Thread.ofPlatform().daemon()
                .name("qrexec-call-" + qube).start(() -> serve(holder[0], t)));
        holder[0] = daemon;
        QrexecDaemon old = daemons.put(qube, daemon);
        if (old != null) {
            old.close();
        }
        return daemon;
    }

    /** @return whether {@code qube}'s agent is connected (a dom0 command can run there now) */
    public boolean connected(String qube) {
        QrexecDaemon d = daemons.get(qube);
        return d != null && d.alive();
    }

    /** Stops serving {@code qube} (stop plan, or the domain died). */
    public void detach(String qube) {
        QrexecDaemon d = daemons.remove(qube);
        if (d != null) {
            d.close();
        }
    }

    /** The outcome of a call from dom0. */
    public record Result(int exitCode, byte[] stdout, byte[] stderr) {
    }

    /**
     * Runs {@code command} as {@code user} in {@code qube} from dom0 ({@code MSG_EXEC_CMDLINE}) and collects its
     * output. dom0 is the admin qube: its commands are not put to the policy (as Qubes' qrexec-client from dom0),
     * but they use the same data channels and bounds as calls between qubes. A service call from dom0 is the
     * command {@code QUBESRPC SERVICE+ARG dom0}.
     */
    public Result run(String qube, String user, String command, byte[] stdin) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int code = run(qube, user, command, new ByteArrayInputStream(stdin), out, err);
        return new Result(code, out.toByteArray(), err.toByteArray());
    }

    /** Like {@link #run(String, String, String, byte[])}, streaming; returns the remote exit code. */
    public int run(String qube, String user, String command, InputStream stdin, OutputStream stdout,
                   OutputStream stderr) {
        QrexecDaemon target = daemon(qube);
        try (DataChannel data = offer(target, Message.Exec.Kind.EXEC_CMDLINE, user + ":" + command)) {
            data.open(CONNECT);
            Thread feeder = Thread.ofPlatform().daemon().name("qrexec-stdin-" + qube).start(() -> {
                try {
                    byte[] chunk = new byte[16384];
                    for (int n; (n = stdin.read(chunk)) > 0; ) {
                        data.stream().write(new Message.Data(Message.Data.Stream.STDIN,
                                Arrays.copyOf(chunk, n)));
                    }
                    data.stream().write(new Message.Data(Message.Data.Stream.STDIN, new byte[0]));
                } catch (IOException | CompartException e) {
                    LOG.debug("qrexec: stdin to {} ended: {}", qube, e.getMessage());
                }
            });
            try {
                while (true) {
                    Message m = data.stream().read();
                    switch (m) {
                        case null -> throw new CompartException(ErrorKind.PROTOCOL, "qrexec: " + qube
                                + " closed the data channel without an exit code");
                        case Message.Data(Message.Data.Stream s, byte[] b) when s != Message.Data.Stream.STDIN ->
                                (s == Message.Data.Stream.STDOUT ? stdout : stderr).write(b);
                        case Message.ExitCode(int code) -> {
                            return code;
                        }
                        default -> throw new CompartException(ErrorKind.PROTOCOL, "qrexec: " + qube
                                + " sent an unexpected message on a data channel: " + m);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                // stdin may never end (a terminal): the feeder then finds the channel closed when it next writes
                joinQuietly(feeder, Duration.ofMillis(200));
            }
        }
    }

    /** Decides one call from {@code source} and, when allowed, connects it. Never throws. */
    private void serve(QrexecDaemon source, Message.TriggerService t) {
        try {
            boolean ran = call(source.qube(), t.untrustedService(), t.untrustedTarget(), (qube, user) -> {
                QrexecDaemon dest = daemon(qube);
                connect(source, t.untrustedIdent(), dest, user + ":QUBESRPC " + t.untrustedService() + " "
                        + source.qube());
            });
            if (!ran) {
                source.send(new Message.ServiceRefused(t.untrustedIdent()));
            }
        } catch (RuntimeException e) {
            LOG.warn("qrexec: call from {} failed: {}", source.qube(), e.getMessage());
            try {
                source.send(new Message.ServiceRefused(t.untrustedIdent()));
            } catch (RuntimeException ignored) {
                // its control channel is gone too
            }
        }
    }

    /** Runs an allowed call in its target qube: receives the qube's name and the user to run the service as. */
    @FunctionalInterface
    interface Connector {
        void connect(String qube, String user);
    }

    /**
     * Decides one call from {@code caller} with the policy (one audit line) and, when allowed, gets its target
     * running and connects it: {@code @dispvm:BASE} is a new disposable, created and started for this call and
     * killed and removed when it ends, whatever happened; a halted or paused named target is started first when
     * the rule allows autostart (the policy already refused the call otherwise).
     *
     * @return false when the call is refused (by the policy, or because the allowed target is dom0 which runs no
     *         services here, or no {@link Targets} were set to start it)
     * @throws CompartException when the target cannot be created, started or connected
     */
    boolean call(String caller, String untrustedService, String untrustedTarget, Connector connector) {
        Policy p = policy.get();
        SystemInfo sys = system.get();
        Resolution r;
        var request = Request.of(untrustedService, caller, untrustedTarget);
        if (p == null) {
            r = new Resolution.Deny(null, "no policy loaded", true, "qrexec: " + caller + " -> " + untrustedTarget
                    + ": " + untrustedService + ": denied: no policy loaded");
            Policy.audit(r.log());
        } else {
            r = p.decide(request, sys, false);
        }
        decisions.accept(r);
        if (!(r instanceof Resolution.Allow allow)) {
            // Ask without a GUI to answer it is refused, as qrexec-policy-daemon does with no agent present.
            return false;
        }
        String user = allow.user() == null ? "user" : allow.user();
        Targets t = targets;
        if (allow.target().startsWith("@dispvm:")) {
            if (t == null) {
                LOG.warn("qrexec: {} -> {}: {} allowed, but no disposable can be made here", caller,
                        untrustedTarget, untrustedService);
                return false;
            }
            String disp = t.startDisposable(allow.target().substring("@dispvm:".length()), caller);
            LOG.info("qrexec: {} -> {}: {} runs in disposable {}", caller, untrustedTarget, untrustedService, disp);
            try {
                connector.connect(disp, user);
            } finally {
                t.dispose(disp);
            }
            return true;
        }
        var resolved = sys.find(allow.target()); // the policy may answer uuid:UUID
        String qube = resolved == null ? allow.target() : resolved.name();
        if (qube.equals("dom0") || resolved != null && "AdminVM".equals(resolved.type())) {
            LOG.warn("qrexec: {} -> {}: {} allowed to dom0, which runs no qrexec services in Compart", caller,
                    untrustedTarget, untrustedService);
            return false;
        }
        if (!connected(qube)) {
            if (t == null) {
                LOG.warn("qrexec: {} -> {}: {} allowed, but {} has no running agent", caller, untrustedTarget,
                        untrustedService, qube);
                return false;
            }
            t.startForCall(qube);
        }
        connector.connect(qube, user);
        return true;
    }

    /** Gives each agent a data channel and relays: stdin from the caller, stdout/stderr/exit code back. */
    private void connect(QrexecDaemon caller, String ident, QrexecDaemon service, String command) {
        try (DataChannel toService = offer(service, Message.Exec.Kind.EXEC_CMDLINE, command);
             DataChannel toCaller = offer(caller, Message.Exec.Kind.SERVICE_CONNECT, ident)) {
            toService.open(CONNECT);
            toCaller.open(CONNECT);
            Thread up = Thread.ofPlatform().daemon().name("qrexec-relay-" + caller.qube()).start(() -> {
                try {
                    for (Message m; (m = toCaller.stream().read()) != null; ) {
                        if (!(m instanceof Message.Data d) || d.stream() != Message.Data.Stream.STDIN) {
                            throw new CompartException(ErrorKind.PROTOCOL, "qrexec: caller " + caller.qube()
                                    + " sent " + m + " on its data channel");
                        }
                        toService.stream().write(m);
                    }
                } catch (CompartException e) {
                    LOG.debug("qrexec: relay from {} ended: {}", caller.qube(), e.getMessage());
                }
            });
            try {
                for (Message m; (m = toService.stream().read()) != null; ) {
                    if (m instanceof Message.ExitCode || (m instanceof Message.Data d
                            && d.stream() != Message.Data.Stream.STDIN)) {
                        toCaller.stream().write(m);
                        if (m instanceof Message.ExitCode) {
                            break;
                        }
                    } else {
                        throw new CompartException(ErrorKind.PROTOCOL, "qrexec: service side " + service.qube()
                                + " sent " + m + " on its data channel");
                    }
                }
            } finally {
                joinQuietly(up);
            }
        }
    }

    private DataChannel offer(QrexecDaemon peer, Message.Exec.Kind kind, String command) {
        int port = allocate(peer.domid());
        var data = DataChannel.offer(peer.domid(), port, () -> free(peer.domid(), port),
                "qrexec data channel to " + peer.qube() + " port " + port);
        try {
            peer.send(new Message.Exec(kind, 0, port, command));
            return data;
        } catch (RuntimeException e) {
            data.close();
            throw e;
        }
    }

    private QrexecDaemon daemon(String qube) {
        QrexecDaemon d = daemons.get(qube);
        if (d == null || !d.alive()) {
            throw new CompartException(ErrorKind.INVALID_STATE, "qrexec: " + qube + " has no connected agent; "
                    + "start the qube (its qrexec-agent connects after boot)");
        }
        return d;
    }

    private int allocate(int domid) {
        BitSet used = ports.computeIfAbsent(domid, k -> new BitSet(PORTS));
        synchronized (used) {
            int free = used.nextClearBit(0);
            if (free >= PORTS) {
                throw new CompartException(ErrorKind.INVALID_STATE, "qrexec: all " + PORTS
                        + " data ports to domain " + domid + " are in use");
            }
            used.set(free);
            return FIRST_DATA_PORT + free;
        }
    }

    private void free(int domid, int port) {
        BitSet used = ports.get(domid);
        synchronized (used) {
            used.clear(port - FIRST_DATA_PORT);
        }
    }

    private static void joinQuietly(Thread t) {
        joinQuietly(t, Duration.ofSeconds(5));
    }

    private static void joinQuietly(Thread t, Duration wait) {
        try {
            if (!t.join(wait)) {
                LOG.debug("qrexec: {} still running after the call ended", t.getName());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        for (String qube : daemons.keySet()) {
            detach(qube);
        }
    }
}
