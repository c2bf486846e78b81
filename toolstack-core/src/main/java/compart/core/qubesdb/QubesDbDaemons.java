package compart.core.qubesdb;

import compart.core.model.Inventory;
import compart.core.model.Prop;
import compart.core.model.Qube;
import compart.core.qrexec.VchanLink;
import compart.errors.CompartException;
import compart.xl.vchan.Vchan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * dom0's QubesDB daemons, one {@link QubesDbServer} per running qube, as qubesd runs one {@code qubesdb-daemon}
 * per qube: {@link #start} fills a qube's database before its domain is unpaused, {@link #refresh} pushes what an
 * inventory change means to every running qube (features, firewall, netvm), {@link #stop} ends it when the
 * domain dies.
 *
 * <p>Thread safe.
 */
public final class QubesDbDaemons implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QubesDbDaemons.class);

    /** Makes the listener of a domain's QubesDB connection. */
    @FunctionalInterface
    public interface Listeners {
        /** @return where the daemon of domain {@code domid} connects */
        QubesDbServer.Listener forDomain(int domid);
    }

    private final Listeners listeners;
    private final Supplier<Optional<String>> timezone;
    private final InstantSource clock;
    private final RandomGenerator random;
    private final ConcurrentHashMap<String, QubesDbServer> servers = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Set<String>> clientsUp = new ConcurrentHashMap<>();
    private final Object refreshing = new Object();

    /**
     * @param listeners where qubes' daemons connect; null when the domains have none (the databases are then
     *                  kept up to date in dom0 and not served)
     * @param timezone  the host's timezone ({@link #hostTimezone})
     * @param clock     the time, for firewall rules that expire
     * @param random    for each start's random seed (a {@code SecureRandom} in production)
     */
    public QubesDbDaemons(Listeners listeners, Supplier<Optional<String>> timezone, InstantSource clock,
                          RandomGenerator random) {
        this.listeners = listeners;
        this.timezone = timezone;
        this.clock = clock;
        this.random = random;
    }

    /** Listeners on libxenvchan: a server end for the domain at {@code /local/domain/0/data/vchan/<domid>/111}. */
    public static Listeners vchan() {
        return domid -> () -> new VchanLink(Vchan.server(domid, VchanLink.path(0, domid, QubesDbServer.VCHAN_PORT),
                QubesDbServer.RING_SIZE, QubesDbServer.RING_SIZE));
    }

    /** @return the host's timezone as qubesd finds it: the target of {@code /etc/localtime} after "zoneinfo/" */
    public static Optional<String> hostTimezone() {
        try {
            String target = Files.readSymbolicLink(Path.of("/etc/localtime")).toString();
            int i = target.indexOf("zoneinfo/");
            return i < 0 ? Optional.empty() : Optional.of(target.substring(i + "zoneinfo/".length()));
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    /** @return whether the databases are served to the domains (false: kept in dom0 only) */
    public boolean serving() {
        return listeners != null;
    }

    /**
     * Fills a starting qube's database and serves it (its daemon may connect once the domain runs). Before that,
     * its netvm learns of it (connected IPs, mapped IP, firewall), as qubesd does before a client's network
     * interface appears. Both are computed from the current inventory, in step with {@link #refresh}, so that a
     * change made while the qube was starting is not lost.
     *
     * @param current the toolstack's current inventory
     * @param qube    the qube
     * @param domid   its (paused) domain
     * @param running whether a qube runs (its clients already up are written into a net qube's database)
     * @return the server
     * @throws CompartException when the database cannot be served (no vchan server for the domain)
     */
    public QubesDbServer start(Supplier<Inventory> current, String qube, int domid, Predicate<String> running) {
        stop(qube);
        QubesDbServer server;
        synchronized (refreshing) {
            var inv = current.get();
            var q = inv.qube(qube);
            Set<String> up = ConcurrentHashMap.newKeySet();
            inv.connectedTo(qube).stream().map(Qube::name).filter(running).forEach(up::add);
            clientsUp.put(qube, up);
            byte[] seed = new byte[64];
            random.nextBytes(seed);
            server = QubesDbServer.create(qube, QubesDbEntries.of(inv, qube, facts(qube)),
                    Base64.getEncoder().encodeToString(seed));
            servers.put(qube, server);
            inv.value(q, Prop.NETVM).ifPresent(netvm -> {
                var set = clientsUp.get(netvm);
                if (set != null) {
                    set.add(qube);
                    refresh(inv, netvm);
                }
            });
        }
        if (listeners != null) {
            server.serve(listeners.forDomain(domid));
            LOG.info("qubesdb: serving {} (domain {}) on vchan port {}: {} entries", qube, domid,
                    QubesDbServer.VCHAN_PORT, server.db().size());
        } else {
            LOG.info("qubesdb: {} entries for {} (domain {}) kept in dom0; not served: simulated domains have no "
                    + "vchan", server.db().size(), qube, domid);
        }
        return server;
    }

    private QubesDbEntries.Facts facts(String qube) {
        return new QubesDbEntries.Facts(timezone.get(), clientsUp.getOrDefault(qube, Set.of()),
                clock.instant().getEpochSecond());
    }

    /** Pushes what the inventory now says to every running qube's database. */
    public void refresh(Inventory inv) {
        synchronized (refreshing) {
            for (var name : servers.keySet()) {
                refresh(inv, name);
            }
        }
    }

    private void refresh(Inventory inv, String name) {
        var server = servers.get(name);
        if (server == null || inv.find(name).isEmpty()) {
            return;
        }
        try {
            server.update(QubesDbEntries.of(inv, name, facts(name)));
        } catch (RuntimeException e) {
            LOG.error("qubesdb: cannot update the QubesDB of {}: {}", name, e.getMessage());
        }
    }

    /** Writes the firewall of {@code client} again into its running netvm's database ({@code admin.vm.firewall.Reload}). */
    public void reloadFirewall(Inventory inv, String client) {
        var q = inv.qube(client);
        var ip = inv.value(q, Prop.IP);
        inv.value(q, Prop.NETVM).flatMap(this::server).ifPresent(s -> ip.ifPresent(s::reloadFirewall));
    }

    /** @return the database server of a running qube */
    public Optional<QubesDbServer> server(String qube) {
        return Optional.ofNullable(servers.get(qube));
    }

    /** Ends a qube's database (its domain died or its start was undone). */
    public void stop(String qube) {
        var s = servers.remove(qube);
        clientsUp.remove(qube);
        if (s != null) {
            s.close();
        }
    }

    @Override
    public void close() {
        servers.keySet().forEach(this::stop);
    }
}
