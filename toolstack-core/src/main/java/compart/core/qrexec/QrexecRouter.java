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
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * Decides and connects qrexec calls, as Qubes' qrexec-daemon and qrexec-policy do: every service call a qube asks
 * for is decided by the qrexec policy (deny by default, {@code ask} refused as Qubes does without a GUI, one audit
 * line per decision). An allowed call between two qubes is connected the way Qubes connects it: dom0 allocates a
 * data port of the target, sends the target's agent {@code MSG_EXEC_CMDLINE} (connect to the caller's domain on
 * that port) and the caller's agent {@code MSG_SERVICE_CONNECT} (serve the target's domain on that port); the data
 * vchan then runs between the two qubes and dom0 carries none of its data. An allowed call to dom0 runs one of
 * dom0's own services ({@link Dom0Service}; others are refused and audited), over a data vchan the caller serves.
 * An allowed target that is not running is started first ({@link Targets}); {@code @dispvm} gets a new disposable,
 * killed and removed when its agent reports the end of the call, as in Qubes. Commands and service calls from dom0
 * ({@link #run}) use a data vchan dom0 serves.
 *
 * <p>Data ports are allocated per qube as Qubes' daemon does and freed when the agent reports
 * {@code MSG_CONNECTION_TERMINATED} ({@link QrexecDaemon}). Thread-safe: each call runs on its own platform
 * threads (vchan calls are native).
 */
public final class QrexecRouter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QrexecRouter.class);
    private static final Duration CONNECT = Duration.ofSeconds(30);

    private final Supplier<Policy> policy;
    private final Supplier<SystemInfo> system;
    private final Consumer<Resolution> decisions;
    private final Map<String, QrexecDaemon> daemons = new ConcurrentHashMap<>();
    private final Map<String, Dom0Service> dom0Services = new ConcurrentHashMap<>();
    private final VchanTransport transport;
    private volatile int pendingLimit = QrexecDaemon.DEFAULT_PENDING_LIMIT;
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
        this(VchanTransport.xen(), policy, system, decisions);
    }

    /** As {@link #QrexecRouter(Supplier, Supplier, Consumer)}, over {@code transport} (tests: Unix sockets). */
    QrexecRouter(VchanTransport transport, Supplier<Policy> policy, Supplier<SystemInfo> system,
                 Consumer<Resolution> decisions) {
        this.transport = Objects.requireNonNull(transport, "transport");
        for (Dom0Service s : Dom0Service.builtIn()) {
            dom0Services.put(s.name(), s);
        }
        this.policy = Objects.requireNonNull(policy, "policy");
        this.system = Objects.requireNonNull(system, "system");
        this.decisions = Objects.requireNonNull(decisions, "decisions");
    }

    /** Sets how targets are started ({@code @dispvm}, autostart); until then such calls are refused. */
    public void targets(Targets t) {
        this.targets = Objects.requireNonNull(t, "targets");
    }

    /**
     * Adds (or replaces) a service that qubes may call in dom0 when the policy allows it ({@code target=dom0}).
     */
    public void dom0Service(Dom0Service service) {
        dom0Services.put(service.name(), service);
    }

    /** Sets how many calls of one qube may be pending at a time (more are refused); for qubes attached later. */
    void pendingLimit(int limit) {
        this.pendingLimit = limit;
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
        var daemon = QrexecDaemon.connect(transport, qube, domid, timeout, domainAlive, this::serve, pendingLimit);
        QrexecDaemon old = daemons.put(qube, daemon);
        if (old != null) {
            old.close();
        }
        return daemon;
    }

    /** @return the daemon of {@code qube}'s agent, if attached */
    QrexecDaemon daemonOf(String qube) {
        return daemons.get(qube);
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
        try (DataChannel data = offer(target, user + ":" + command)) {
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

    /**
     * Decides one call from {@code source} and, when allowed, connects it: directly to the target qube, or to a
     * dom0 service.
     *
     * @return false when refused
     */
    private boolean serve(QrexecDaemon source, QrexecDaemon.ServiceCall c) {
        if (!c.requestedSource().isEmpty() && !c.requestedSource().equals(source.qube())) {
            // a protocol 4 caller acting for another source: Qubes' RemoteVM relays, which Compart does not have
            Policy.audit("qrexec: " + source.qube() + " -> " + c.target() + ": " + c.service()
                    + ": denied: source " + c.requestedSource() + " requested by a qube that relays no qubes");
            return false;
        }
        return call(source.qube(), c.service(), c.target(), (qube, user) -> {
            if (qube.equals("dom0")) {
                if (!dom0(source, c.ident(), c.service())) {
                    throw new CompartException(ErrorKind.PERMISSION_DENIED, "qrexec: " + c.service()
                            + " is no dom0 service");
                }
                return;
            }
            connectDirect(source, c.ident(), daemon(qube), user, c.service(), isDisposable(qube));
        });
    }

    private boolean isDisposable(String qube) {
        var q = system.get().find(qube);
        return q != null && "DispVM".equals(q.type());
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
            connector.connect("dom0", user);
            return true;
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

    /**
     * Connects an allowed call between two qubes as Qubes does: a data port of the target for the caller's domain,
     * {@code MSG_EXEC_CMDLINE} to the target (its service connects to the caller's domain on that port), then
     * {@code MSG_SERVICE_CONNECT} to the caller (its qrexec-client-vm serves that port to the target). The data
     * vchan runs between the qubes; dom0 opens none. For a disposable target, waits for the end of the call.
     */
    private void connectDirect(QrexecDaemon caller, String ident, QrexecDaemon service, String user,
                               String serviceName, boolean waitForEnd) {
        int port = service.allocatePort(caller.domid());
        String trailer = serviceName.indexOf('+') >= 0 ? "" : "+";
        try {
            service.send(new Message.Exec(Message.Exec.Kind.EXEC_CMDLINE, caller.domid(), port,
                    user + ":QUBESRPC " + serviceName + trailer + " " + caller.qube()));
        } catch (RuntimeException e) {
            service.releasePort(port, caller.domid());
            throw e;
        }
        caller.send(new Message.Exec(Message.Exec.Kind.SERVICE_CONNECT, service.domid(), port, ident));
        if (waitForEnd) {
            try {
                service.awaitRelease(port, caller.domid());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Runs the dom0 service {@code serviceName} for {@code caller}: a data port of the caller for dom0,
     * {@code MSG_SERVICE_CONNECT} to the caller, dom0 connects to the vchan the caller's qrexec-client-vm serves,
     * then runs the service with the caller's stdin and sends back its output and exit code.
     *
     * @return false when dom0 has no such service (refused, audited)
     */
    private boolean dom0(QrexecDaemon caller, String ident, String serviceName) {
        int plus = serviceName.indexOf('+');
        String name = plus < 0 ? serviceName : serviceName.substring(0, plus);
        String argument = plus < 0 ? "" : serviceName.substring(plus + 1);
        Dom0Service service = dom0Services.get(name);
        if (service == null) {
            Policy.audit("qrexec: " + caller.qube() + " -> dom0: " + serviceName + ": denied: dom0 has no service "
                    + name);
            return false;
        }
        int port = caller.allocatePort(0);
        try {
            caller.send(new Message.Exec(Message.Exec.Kind.SERVICE_CONNECT, 0, port, ident));
        } catch (RuntimeException e) {
            caller.releasePort(port, 0);
            throw e;
        }
        try (DataChannel data = DataChannel.connect(transport, caller.domid(), port, CONNECT,
                "qrexec: " + caller.qube() + " -> dom0: " + serviceName)) {
            byte[] stdin = service.readsStdin() ? readStdin(data, caller.qube()) : new byte[0];
            Result r = service.run(caller.qube(), argument, stdin);
            sendAll(data, Message.Data.Stream.STDOUT, r.stdout());
            sendAll(data, Message.Data.Stream.STDERR, r.stderr());
            data.stream().write(new Message.ExitCode(r.exitCode()));
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompartException(ErrorKind.TIMEOUT, "qrexec: interrupted while connecting " + caller.qube());
        }
    }

    private static byte[] readStdin(DataChannel data, String qube) {
        var in = new ByteArrayOutputStream();
        while (true) {
            Message m = data.stream().read();
            if (m == null || m instanceof Message.Data d && d.stream() == Message.Data.Stream.STDIN && d.eof()) {
                return in.toByteArray();
            }
            if (!(m instanceof Message.Data d) || d.stream() != Message.Data.Stream.STDIN) {
                throw new CompartException(ErrorKind.PROTOCOL, "qrexec: " + qube + " sent " + m
                        + " to a dom0 service");
            }
            if (in.size() + d.bytes().length > Dom0Service.MAX_INPUT) {
                throw new CompartException(ErrorKind.PROTOCOL, "qrexec: " + qube + " sent more than "
                        + Dom0Service.MAX_INPUT + " bytes to a dom0 service");
            }
            in.writeBytes(d.bytes());
        }
    }

    private static void sendAll(DataChannel data, Message.Data.Stream stream, byte[] bytes) {
        for (int off = 0; off < bytes.length; off += MessageCodec.MAX_DATA_CHUNK) {
            data.stream().write(new Message.Data(stream, Arrays.copyOfRange(bytes, off,
                    Math.min(bytes.length, off + MessageCodec.MAX_DATA_CHUNK))));
        }
        data.stream().write(new Message.Data(stream, new byte[0]));
    }

    /** Offers dom0's server end of a data vchan to {@code peer} and asks its agent to run {@code command}. */
    private DataChannel offer(QrexecDaemon peer, String command) {
        int port = peer.allocatePort(0);
        DataChannel data = null;
        try {
            data = DataChannel.offer(transport, peer.domid(), port, "qrexec data channel to " + peer.qube()
                    + " port " + port);
            peer.send(new Message.Exec(Message.Exec.Kind.EXEC_CMDLINE, 0, port, command));
            return data;
        } catch (RuntimeException e) {
            if (data != null) {
                data.close();
            }
            peer.releasePort(port, 0);
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
