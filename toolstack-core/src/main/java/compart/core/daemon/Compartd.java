package compart.core.daemon;

import compart.core.api.AdminApi;
import compart.core.hypervisor.Hypervisor;
import compart.core.hypervisor.libxl.LibxlHypervisor;
import compart.core.hypervisor.test.TestHypervisor;
import compart.core.memory.MemorySettings;
import compart.core.model.Inventory;
import compart.core.model.PoolDefinition;
import compart.volumes.LinuxKernelPoolDriver;
import compart.core.ops.Toolstack;
import compart.core.qrexec.QrexecRouter;
import compart.core.qubesdb.QubesDbDaemons;
import compart.core.storage.Storage;
import compart.core.store.QubesXmlImport;
import compart.core.store.StateStore;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.policy.LivePolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code compartd}: the Compart daemon, in the foreground. Loads the state, starts the hypervisor backend and
 * serves the Qubes Admin API until SIGTERM/SIGINT.
 */
@Command(name = "compartd", mixinStandardHelpOptions = true, version = "compartd 0.1.0",
        description = "Serve the Qubes Admin API (what qubesd is in Qubes OS) on a unix socket.")
public final class Compartd implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(Compartd.class);

    @Option(names = "--socket", paramLabel = "PATH", description = "Unix socket to listen on (default: ${DEFAULT-VALUE}).")
    Path socket = Path.of("/var/run/qubesd.sock");

    @Option(names = "--internal-socket", paramLabel = "PATH", description = "Unix socket for dom0 components "
            + "(internal.GetSystemInfo for the qrexec policy daemon), as qubesd's (default: qubesd.internal.sock "
            + "beside --socket, i.e. /var/run/qubesd.internal.sock).")
    Path internalSocket;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "Where the qubes' configuration and the default "
            + "file-reflink pool live (default: ${DEFAULT-VALUE}).")
    Path stateDir = Path.of("/var/lib/compart");

    @Option(names = "--hypervisor", paramLabel = "libxl|test", description = "Backend: libxl (real Xen) or test "
            + "(simulated, in memory) (default: ${DEFAULT-VALUE}).")
    String hypervisor = "libxl";

    @Option(names = "--test-memory", paramLabel = "MIB", description = "Memory of the simulated host of the test "
            + "hypervisor (default: ${DEFAULT-VALUE}).")
    long testMemoryMib = 65536;

    @Option(names = "--policy-dir", paramLabel = "DIR", description = "qrexec policy directory deciding admin.* "
            + "calls from qubes, in priority order; repeatable (default: /run/qubes/policy.d, /etc/qubes/policy.d). "
            + "Without a usable policy every call from a qube is refused.")
    List<Path> policyDirs = List.of(Path.of("/run/qubes/policy.d"), Path.of("/etc/qubes/policy.d"));

    @Option(names = "--import-qubes-xml", paramLabel = "FILE", description = "On a state directory without state, "
            + "import this Qubes qubes.xml first.")
    Path importXml;

    @Option(names = "--max-connections", paramLabel = "N", description = "Most connections open at once on each "
            + "socket; at the limit the oldest one that has not sent its request is closed (default: ${DEFAULT-VALUE}).")
    int maxConnections = AdminServer.ConnectionLimits.DEFAULT.maxConnections();

    @Option(names = "--request-timeout", paramLabel = "SECONDS", description = "Time a client has to send its whole "
            + "request, and each reply write to progress (default: ${DEFAULT-VALUE}).")
    double requestTimeoutSeconds = AdminServer.ConnectionLimits.DEFAULT.requestTimeout().toMillis() / 1000.0;

    @Option(names = "--payload-timeout", paramLabel = "SECONDS", description = "Longest pause in a streamed volume "
            + "import before it fails (default: ${DEFAULT-VALUE}).")
    double payloadTimeoutSeconds = AdminServer.ConnectionLimits.DEFAULT.payloadTimeout().toMillis() / 1000.0;

    @Option(names = "--events-backlog", paramLabel = "N", description = "Events queued for one admin.Events client "
            + "before it is told and disconnected (default: ${DEFAULT-VALUE}).")
    int eventsBacklog = AdminServer.ConnectionLimits.DEFAULT.eventsBacklog();

    @Option(names = "--memory-config", paramLabel = "FILE", description = "Memory balancing settings, with the keys "
            + "and defaults of Qubes' qmemman.conf: vm-min-mem, dom0-mem-boost, cache-margin-factor; a missing file "
            + "means Qubes' defaults (default: ${DEFAULT-VALUE}).")
    Path memoryConfig = MemorySettings.DEFAULT_FILE;

    @Option(names = "--memory-avail-file", paramLabel = "FILE", description = "Write the memory balancing's "
            + "available-memory figure (bytes) here after each rebalance, as qmemman writes "
            + "/var/run/qubes/qmemman-avail-mem (default: not written).")
    Path memoryAvailFile;

    /** Runs the daemon. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new Compartd()).execute(args));
    }

    /** The running daemon's parts; closed in reverse order. */
    public record Running(Hypervisor hypervisor, Toolstack toolstack, AdminServer server, AdminServer internalServer,
                          LivePolicy policy) implements AutoCloseable {
        @Override
        public void close() {
            server.close();
            internalServer.close();
            toolstack.qrexec().ifPresent(QrexecRouter::close);
            policy.close();
            toolstack.close();
            hypervisor.close();
        }
    }

    /**
     * Starts the daemon without blocking (used by {@link #call} and by tests).
     *
     * @return the running parts
     */
    public Running start() {
        Hypervisor hv = switch (hypervisor) {
            case "test" -> new TestHypervisor(testMemoryMib, 8);
            case "libxl" -> LibxlHypervisor.open();
            default -> throw CompartException.invalidValue("unknown hypervisor %s: use libxl or test", hypervisor);
        };
        var store = new StateStore(stateDir);
        Path poolDir = stateDir.resolve("pool");
        try {
            Files.createDirectories(poolDir);
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot create " + poolDir + ": " + e, e);
        }
        var poolConfig = new TreeMap<String, String>(Map.of("dir_path", poolDir.toString(),
                "revisions_to_keep", "1"));
        if (!Storage.canReflink(poolDir)) {
            // the file-reflink driver then copies instead of cloning, and warns once when it opens the pool
            poolConfig.put("setup_check", "no");
        }
        var pools = List.of(new PoolDefinition("varlibqubes", "file-reflink", poolConfig), new PoolDefinition(PoolDefinition.KERNEL_POOL,
                LinuxKernelPoolDriver.NAME, Map.of("dir_path", "/var/lib/qubes/vm-kernels")));
        Inventory initial = Inventory.initial(pools, hv.hostInfo().totalMemoryMib());
        if (importXml != null && !Files.exists(stateDir.resolve("system.json"))) {
            var imported = QubesXmlImport.read(importXml, hv.hostInfo().totalMemoryMib());
            imported.notes().forEach(n -> LOG.warn("import {}: {}", importXml, n));
            initial = imported.inventory();
        }
        var loaded = store.load(initial);
        loaded.broken().forEach(b -> LOG.error("qube {} is in error: {} ({})", b.name(), b.error(), b.file()));
        LivePolicy policy;
        try {
            policy = new LivePolicy(policyDirs, null);
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot watch the policy directories " + policyDirs + ": "
                    + e.getMessage(), e);
        }
        // qrexec daemons need real domains with agents: on the simulated hypervisor there are none
        var api = new AtomicReference<AdminApi>();
        QrexecRouter qrexec = hv.name().equals("test") ? null
                : new QrexecRouter(policy::current, () -> api.get().systemInfo(), r -> { });
        if (qrexec == null) {
            LOG.info("hypervisor {}: simulated domains have no qrexec agent: no qrexec daemons are started and "
                    + "qvm-run is refused", hv.name());
        }
        // QubesDB is served over vchan to real domains; on the simulated hypervisor it is kept in compartd only
        var qubesdb = new QubesDbDaemons(hv.name().equals("test") ? null : QubesDbDaemons.vchan(),
                QubesDbDaemons::hostTimezone, InstantSource.system(), new SecureRandom());
        if (!qubesdb.serving()) {
            LOG.info("hypervisor {}: simulated domains have no vchan: each qube's QubesDB is filled and updated in "
                    + "compartd but not served", hv.name());
        }
        var toolstack = new Toolstack(store, hv, new Storage(), loaded.inventory(),
                loaded.broken().stream().map(StateStore.BrokenEntry::name).collect(Collectors.toSet()), qrexec,
                qubesdb, MemorySettings.read(memoryConfig));
        if (memoryAvailFile != null) {
            toolstack.memory().writeAvailableTo(memoryAvailFile);
        }
        if (qrexec != null) {
            qrexec.targets(toolstack.disposables()); // @dispvm and autostart of qrexec targets
        }
        toolstack.disposables().preloaded().begin(); // stale preloads removed, the queues filled, in the background
        if (!policy.current().valid()) {
            LOG.warn("qrexec policy in {} is not usable ({}): every Admin API call from a qube is refused",
                    policyDirs, policy.current().diagnostics().getFirst());
        }
        api.set(new AdminApi(toolstack, policy::current));
        var asked = new AdminServer.ConnectionLimits(maxConnections, seconds(requestTimeoutSeconds),
                seconds(payloadTimeoutSeconds), eventsBacklog);
        var limits = asked.withinFileLimit(2, openFileLimit());
        if (limits.maxConnections() < asked.maxConnections()) {
            LOG.warn("--max-connections {} is more than the open file limit ({}) allows for two sockets: {} per "
                    + "socket (raise LimitNOFILE to serve more)", asked.maxConnections(), openFileLimit(),
                    limits.maxConnections());
        }
        var server = new AdminServer(socket, api.get(), toolstack.events(), limits);
        AdminServer internal;
        try {
            internal = AdminServer.internal(internalSocket(), api.get(), limits);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        LOG.info("compartd: {} qubes, hypervisor {}{}, state in {}", loaded.inventory().qubes().size(), hv.name(),
                hv.name().equals("test") ? " (SIMULATED: no real domains are created)" : "", stateDir);
        return new Running(hv, toolstack, server, internal, policy);
    }

    /** @return the soft limit of open files of this process ({@code ulimit -n}), 0 when it cannot be read */
    private static long openFileLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return soft.equals("unlimited") ? 0 : Long.parseLong(soft);
                }
            }
        } catch (IOException | NumberFormatException e) {
            LOG.debug("open file limit unknown: {}", e.getMessage());
        }
        return 0;
    }

    private static Duration seconds(double s) {
        return Duration.ofMillis(Math.round(s * 1000));
    }

    /** @return the internal socket: {@code --internal-socket}, or qubesd.internal.sock beside the Admin API socket */
    Path internalSocket() {
        return internalSocket != null ? internalSocket
                : socket.toAbsolutePath().resolveSibling("qubesd.internal.sock");
    }

    @Override
    public Integer call() {
        Running running;
        try {
            running = start();
        } catch (CompartException e) {
            System.err.println("compartd: " + e.getMessage());
            return 1;
        }
        var stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running.close();
            stop.countDown();
        }));
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
