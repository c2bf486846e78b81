package compart.core.ops;

import compart.core.hypervisor.DomainStatus;
import compart.core.hypervisor.Hypervisor;
import compart.core.hypervisor.HypervisorEvent;
import compart.core.memory.MemoryBroker;
import compart.core.memory.MemorySettings;
import compart.core.model.Inventory;
import compart.core.model.Prop;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import compart.core.qrexec.QrexecRouter;
import compart.core.qubesdb.QubesDbDaemons;
import compart.core.storage.Storage;
import compart.core.store.StateStore;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.errors.Refusal;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The heart of compartd: owns the {@link Inventory} (swapped atomically after each stored change), the store,
 * the hypervisor and the live state of each qube, and runs lifecycle operations through per-qube queues.
 *
 * <p>Thread safe. Reads never block; changes to the inventory are serialised; lifecycle operations on one qube
 * run in order, on different qubes in parallel.
 *
 * <p>A start is planned by {@link StartPlanner} (no I/O) and carried out by {@link StartRun}; disposables are made
 * by {@link Disposables}, created on first use so that it never sees a toolstack under construction.
 */
public final class Toolstack implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Toolstack.class);

    private final StateStore store;
    private final Hypervisor hypervisor;
    private final Storage storage;
    private final ExecutorService stopper = Executors.newCachedThreadPool(
            r -> Thread.ofPlatform().daemon().name("volume-stop").unstarted(r));
    private final ConcurrentHashMap<String, CompletableFuture<Void>> stops = new ConcurrentHashMap<>();
    private final QubeQueues queues = new QubeQueues();
    private final EventBus events = new EventBus();
    private final Object writeLock = new Object();
    private final Set<String> broken;
    private final ConcurrentHashMap<String, Live> live = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, CompletableFuture<Void>> deaths = new ConcurrentHashMap<>();
    private volatile Inventory inventory;
    private final QrexecRouter qrexec;
    private final QubesDbDaemons qubesdb;
    private final MemoryBroker memory;
    private final AtomicReference<Disposables> disposables = new AtomicReference<>();

    /**
     * The live state of a running qube.
     *
     * @param domid its domain id
     * @param state its power state
     */
    public record Live(int domid, PowerState state) {
    }

    /**
     * @param store      where changes are kept
     * @param hypervisor the backend
     * @param storage    the qubes' volumes
     * @param loaded     the inventory as loaded from the store
     * @param broken     names of qubes whose entries could not be loaded (reserved: cannot be created)
     * @param qrexec     dom0's qrexec daemons (real domains only), attached by each start and detached when the
     *                   domain dies; null when the hypervisor's domains have no agent ({@code test})
     * @param qubesdb    dom0's QubesDB daemons (filled at each start, updated by each change); serving over vchan
     *                   on real Xen, kept in dom0 only on {@code test}
     */
    public Toolstack(StateStore store, Hypervisor hypervisor, Storage storage, Inventory loaded, Set<String> broken,
                     QrexecRouter qrexec, QubesDbDaemons qubesdb) {
        this(store, hypervisor, storage, loaded, broken, qrexec, qubesdb, MemorySettings.QUBES_DEFAULTS);
    }

    /**
     * As the constructor above, with the memory balancing's settings ({@code /etc/compart/memory.conf}).
     *
     * @param memorySettings the settings of the memory broker that balances the qubes and reserves memory for starts
     */
    public Toolstack(StateStore store, Hypervisor hypervisor, Storage storage, Inventory loaded, Set<String> broken,
                     QrexecRouter qrexec, QubesDbDaemons qubesdb, MemorySettings memorySettings) {
        this.memory = new MemoryBroker(hypervisor, memorySettings);
        this.qrexec = qrexec;
        this.qubesdb = qubesdb;
        this.store = store;
        this.hypervisor = hypervisor;
        this.storage = storage;
        this.inventory = loaded.withHostMemory(hypervisor.hostInfo().totalMemoryMib());
        this.broken = Set.copyOf(broken);
        hypervisor.subscribe(this::onDomainEvent);
        for (DomainStatus d : hypervisor.list()) {
            if (inventory.find(d.name()).isPresent()) {
                live.put(d.name(), new Live(d.domid(), PowerState.of(d.state())));
                long maxmem = inventory.value(inventory.qube(d.name()), Prop.MAXMEM);
                memory.follow(d.domid(), d.name(), (maxmem > 0 ? maxmem : d.memoryKib() / 1024) * 1024 * 1024,
                        maxmem > 0);
                LOG.info("qube {} found running as domain {}", d.name(), d.domid());
            }
        }
        recoverVolumes();
    }

    /**
     * After a restart: stops the volumes of every qube without a domain, which commits those of qubes whose domain
     * is gone (the daemon died while they ran) and repairs the rest (a staged image is installed, temporaries of
     * an interrupted operation removed), and removes volume files no qube owns (an interrupted create or remove).
     */
    private void recoverVolumes() {
        var inv = inventory;
        for (var q : inv.qubes().values()) {
            if (q.klass() == QubeClass.AdminVM || live.containsKey(q.name())) {
                continue;
            }
            try {
                var volumes = storage.of(inv, q);
                boolean started = volumes.anyRunning();
                volumes.stop(); // also repairs: finishes staged commits, drops temporaries
                if (started) {
                    LOG.warn("qube {} is not running but its volumes were started: stopped them (private committed)",
                            q.name());
                }
            } catch (RuntimeException e) {
                LOG.error("qube {}: cannot recover its volumes: {}", q.name(), e.getMessage());
            }
        }
        try {
            storage.removeOrphans(inv);
        } catch (RuntimeException e) {
            LOG.error("cannot look for orphaned volumes: {}", e.getMessage());
        }
    }

    /** @return dom0's qrexec daemons, when this host's domains have qrexec agents */
    public Optional<QrexecRouter> qrexec() {
        return Optional.ofNullable(qrexec);
    }

    /** @return the memory broker: balancing of the running qubes, reservations of starts, Qubes' figures */
    public MemoryBroker memory() {
        return memory;
    }

    /** @return dom0's QubesDB daemons, one per running qube */
    public QubesDbDaemons qubesdb() {
        return qubesdb;
    }

    /** @return how disposables are made, started for qrexec calls and removed (created on first use) */
    public Disposables disposables() {
        var d = disposables.get();
        return d != null ? d : disposables.updateAndGet(x -> x != null ? x
                : new Disposables(this, InstantSource.system(), new SecureRandom()));
    }

    /** @return the qubes' volumes, for the volume and pool operations of this package */
    Storage storage() {
        return storage;
    }

    /** @return the current inventory (never blocks) */
    public Inventory inventory() {
        return inventory;
    }

    /** @return the hypervisor backend's name: {@code libxl} or {@code test} */
    public String hypervisorName() {
        return hypervisor.name();
    }

    /** @return the event bus of {@code admin.Events} */
    public EventBus events() {
        return events;
    }

    /** @return names of qubes whose stored entry could not be loaded */
    public Set<String> broken() {
        return broken;
    }

    /**
     * Applies a change to the inventory, stores it, makes it current, then publishes its events
     * ({@link InventoryChanges}). A change that throws or cannot be stored leaves everything as it was.
     *
     * @param change from the current inventory to the new one
     * @return the new inventory
     */
    public Inventory change(UnaryOperator<Inventory> change) {
        synchronized (writeLock) {
            var before = inventory;
            var after = change.apply(before);
            if (after != before && !after.equals(before)) {
                store.save(before, after);
                inventory = after;
                publishChanges(before, after);
                qubesdb.refresh(after);
            }
            return after;
        }
    }

    /**
     * Adds a qube: applies {@code change} (which must add the qube {@code name}), creates its volumes, stores it,
     * then publishes {@code domain-add} (and the events of whatever else changed). A crash in between leaves only
     * volume files no qube owns, removed at the next start; a failure removes the volumes again.
     *
     * <p>The volumes are made in the new qube's queue, outside the write lock: creates of different qubes run in
     * parallel and never wait for each other's file I/O, while a create and a remove of one name run in order. The
     * change is applied again under the lock when another change came in between; if the qube's volumes would differ
     * from the ones made (its pool was changed meanwhile), the create fails and removes them.
     *
     * @return the new inventory
     * @throws CompartException what {@code change} throws (ALREADY_EXISTS for a name taken meanwhile), STORAGE
     */
    public Inventory create(String name, UnaryOperator<Inventory> change) {
        try {
            return queues.submit(name, () -> createInQueue(name, change)).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private Inventory createInQueue(String name, UnaryOperator<Inventory> change) {
        var base = inventory;
        var planned = change.apply(base);
        var q = planned.qube(name);
        var volumes = storage.of(planned, q);
        volumes.create();
        try {
            synchronized (writeLock) {
                var before = inventory;
                // checking a whole inventory costs in its size: applied again only when another change came between
                var after = before == base ? planned : change.apply(before);
                if (!after.qube(name).volumes().equals(q.volumes())) {
                    throw CompartException.invalidState("creating %s: its volumes changed while they were made "
                            + "(a pool or its template was changed meanwhile); create it again", name);
                }
                store.save(before, after);
                inventory = after;
                publishChanges(before, after);
                return after;
            }
        } catch (RuntimeException e) {
            volumes.remove();
            throw e;
        }
    }

    /**
     * Publishes the events of a change where it happens (see {@link InventoryChanges}), so every path that
     * changes the inventory fires them; called under the write lock, so they go out in the order of the changes.
     */
    private void publishChanges(Inventory before, Inventory after) {
        for (var e : InventoryChanges.between(before, after)) {
            events.publish(e);
        }
    }

    /**
     * Runs an operation on a qube's volumes in the qube's queue (so it never overlaps a start or stop).
     *
     * @param name         the qube
     * @param whileHalted  refuse (INVALID_STATE) unless the qube is halted
     * @param work         the operation
     */
    public <T> CompletableFuture<T> volumeOp(String name, String why, boolean whileHalted,
                                             Supplier<T> work) {
        inventory.qube(name);
        return queues.submit(name, () -> {
            awaitStop(name);
            if (whileHalted && powerState(name) != PowerState.Halted) {
                throw Refusal.NOT_HALTED.exception("%s: qube %s is %s; shut it down first", why, name,
                        powerState(name));
            }
            return work.get();
        });
    }

    private void awaitStop(String name) {
        var pending = stops.get(name);
        if (pending != null) {
            pending.join();
        }
    }

    /** @return the power state of a qube (dom0 is always Running) */
    public PowerState powerState(String name) {
        var q = inventory.find(name);
        if (q.isPresent() && q.get().klass() == QubeClass.AdminVM) {
            return PowerState.Running;
        }
        var l = live.get(name);
        return l == null ? PowerState.Halted : l.state();
    }

    /** @return the live state, if the qube has a domain */
    public Optional<Live> live(String name) {
        return Optional.ofNullable(live.get(name));
    }

    /** @return the hypervisor's info on the qube's domain, if running */
    public Optional<DomainStatus> domainInfo(String name) {
        return live(name).flatMap(l -> hypervisor.info(l.domid()));
    }

    /** Starts a qube (its netvm chain first); completes when it runs. Already running: nothing to do. */
    public CompletableFuture<Void> start(String name) {
        inventory.qube(name);
        return queues.submit(name, () -> {
            doStart(name);
            return null;
        });
    }

    private void doStart(String name) {
        awaitStop(name);
        var inv = inventory;
        var steps = StartPlanner.plan(inv, name, this::powerState, qrexec != null);
        if (steps.isEmpty()) {
            return;
        }
        var run = new StartRun(hypervisor, memory, qrexec, live, netvm -> start(netvm).join(), qubesdb,
                this::inventory, new StartRun.Context(inv, storage.of(inv, inv.qube(name))));
        try {
            run.execute(steps);
        } catch (RuntimeException e) {
            reconcile(name);
            throw e;
        }
        events.publish(new QubeEvent(name, "domain-start", Map.of("start_guid", "False")));
    }

    /** Re-reads the hypervisor's view of one qube after a failure. */
    private void reconcile(String name) {
        var found = hypervisor.list().stream().filter(d -> d.name().equals(name)).findFirst();
        if (found.isEmpty()) {
            live.remove(name);
        } else {
            var d = found.get();
            live.put(name, new Live(d.domid(), PowerState.of(d.state())));
        }
    }

    /**
     * Asks a qube to shut down.
     *
     * @param force shut down even if other running qubes use it as netvm
     * @param wait  complete only when it has stopped (or fail after its {@code shutdown_timeout})
     */
    public CompletableFuture<Void> shutdown(String name, boolean force, boolean wait) {
        var q = inventory.qube(name);
        return queues.submit(name, () -> {
            var l = domainOf(q, "dom0 cannot be shut down through the Admin API");
            if (!force) {
                var users = inventory.connectedTo(name).stream().map(Qube::name)
                        .filter(n -> powerState(n) != PowerState.Halted).toList();
                if (!users.isEmpty()) {
                    throw CompartException.invalidState("There are other VMs connected to this VM: %s (shut them "
                            + "down first, or use --force)", String.join(", ", users));
                }
            }
            var death = deaths.computeIfAbsent(name, k -> new CompletableFuture<>());
            live.put(name, new Live(l.domid(), PowerState.Halting));
            events.publish(new QubeEvent(name, "domain-pre-shutdown", Map.of()));
            hypervisor.shutdown(l.domid());
            if (wait) {
                long timeout = inventory.find(name).map(x -> inventory.value(x, Prop.SHUTDOWN_TIMEOUT)).orElse(60L);
                try {
                    death.get(timeout, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    throw new CompartException(ErrorKind.TIMEOUT, "Domain shutdown timed out: '" + name
                            + "' did not stop within " + Duration.ofSeconds(timeout).toSeconds() + " s (kill it "
                            + "with qvm-kill)");
                } catch (Exception e) {
                    throw new CompartException(ErrorKind.HYPERVISOR, "waiting for " + name + " to stop: " + e, e);
                }
            }
            return null;
        });
    }

    /** Destroys a qube's domain at once. */
    public CompletableFuture<Void> kill(String name) {
        var q = inventory.qube(name);
        return queues.submit(name, () -> {
            var l = domainOf(q, "dom0 cannot be killed");
            var death = deaths.computeIfAbsent(name, k -> new CompletableFuture<>());
            hypervisor.destroy(l.domid());
            try {
                death.get(60, TimeUnit.SECONDS); // its volumes are stopped: it is Halted when kill returns
            } catch (TimeoutException e) {
                LOG.warn("qube {}: destroyed, but its death was not reported within 60 s", name);
            } catch (Exception e) {
                throw new CompartException(ErrorKind.HYPERVISOR, "waiting for " + name + " to stop: " + e, e);
            }
            return null;
        });
    }

    /** @return the live domain of {@code q}; refuses dom0 (INVALID_STATE, {@code dom0Refusal}) and NOT_RUNNING */
    private Live domainOf(Qube q, String dom0Refusal) {
        if (q.klass() == QubeClass.AdminVM) {
            throw CompartException.invalidState(dom0Refusal);
        }
        var l = live.get(q.name());
        if (l == null) {
            throw Refusal.NOT_RUNNING.exception("Domain is powered off: '%s'", q.name());
        }
        return l;
    }

    /** Pauses a running qube. */
    public CompletableFuture<Void> pause(String name) {
        return changePower(name, s -> s == PowerState.Running || s == PowerState.Transient,
                "Domain not running (either powered off or paused): '%s'", hypervisor::pause, PowerState.Paused);
    }

    /** Lets a paused qube run. */
    public CompletableFuture<Void> unpause(String name) {
        return changePower(name, s -> s == PowerState.Paused, "Domain is not paused: '%s'", hypervisor::unpause,
                PowerState.Running);
    }

    /**
     * In the qube's queue: refuses (INVALID_STATE, {@code refusal} with its name) unless it has a domain in a state
     * {@code from} accepts, then applies {@code call} to the domain and records the state {@code to}.
     */
    private CompletableFuture<Void> changePower(String name, Predicate<PowerState> from, String refusal,
                                                IntConsumer call, PowerState to) {
        inventory.qube(name);
        return queues.submit(name, () -> {
            var l = live.get(name);
            if (l == null || !from.test(l.state())) {
                throw CompartException.invalidState(refusal, name);
            }
            call.accept(l.domid());
            live.put(name, new Live(l.domid(), to));
            return null;
        });
    }

    /** Removes a halted qube (queued behind its other operations). */
    public CompletableFuture<Void> remove(String name) {
        inventory.qube(name);
        return queues.submit(name, () -> {
            doRemove(name);
            return null;
        });
    }

    /**
     * Removes a qube if it still exists when its turn in the queue comes (a disposable's cleanup, which may race
     * with its {@code auto_cleanup} after death): it must then be halted.
     */
    public CompletableFuture<Void> removeIfPresent(String name) {
        return queues.submit(name, () -> {
            if (inventory.find(name).isPresent()) {
                doRemove(name);
            }
            return null;
        });
    }

    private void doRemove(String name) {
        awaitStop(name);
        if (powerState(name) != PowerState.Halted) {
            throw Refusal.NOT_HALTED.exception("Domain is not powered off: '%s'", name);
        }
        var before = inventory;
        var q = before.qube(name);
        // a preloaded disposable leaves its template's list with it (Qubes' _preload_cleanup)
        var base = q.klass() == QubeClass.DispVM ? before.value(q, Prop.TEMPLATE) : Optional.<String>empty();
        change(inv -> base.isEmpty() ? inv.withoutQube(name)
                : PreloadPlanner.withoutPreloads(inv.withoutQube(name), base.get(), Set.of(name)));
        disposables().removed(q);
        storage.of(before, q).remove(); // change() published domain-delete
    }

    /**
     * Changes the inventory where the change touches {@code template_for_dispvms} of {@code template}: its preloaded
     * disposables go first when it stops being a disposable template (see {@link PreloadedDisposables}).
     *
     * @return the inventory after the change
     */
    public Inventory changeDisposableTemplate(String template, UnaryOperator<Inventory> change) {
        return disposables().preloaded().changingDisposableTemplate(template, change);
    }

    /**
     * Runs a change that must not happen while the qube runs (template change), in the qube's queue.
     *
     * @param name   the qube
     * @param change the inventory change
     */
    public CompletableFuture<Inventory> changeWhileHalted(String name, String why, UnaryOperator<Inventory> change) {
        return queues.submit(name, () -> {
            if (powerState(name) != PowerState.Halted) {
                throw Refusal.NOT_HALTED.exception("%s: qube %s is %s; shut it down first", why, name,
                        powerState(name));
            }
            return change(change);
        });
    }

    private void onDomainEvent(HypervisorEvent e) {
        switch (e) {
            case HypervisorEvent.Died d -> {
                var l = live.get(d.name());
                if (l == null || l.domid() != d.domid()) {
                    LOG.info("domain {} ({}) stopped: {} (not a running qube: nothing to do)", d.domid(), d.name(),
                            d.reason());
                    return;
                }
                LOG.info("qube {} (domain {}) stopped: {}", d.name(), d.domid(), d.reason());
                if (qrexec != null) {
                    qrexec.detach(d.name());
                }
                qubesdb.stop(d.name());
                live.put(d.name(), new Live(d.domid(), PowerState.Dying));
                var done = new CompletableFuture<Void>();
                stops.put(d.name(), done);
                stopper.execute(() -> afterDeath(d, done));
            }
            case HypervisorEvent.Paused p -> events.publish(new QubeEvent(p.name(), "domain-paused", Map.of()));
            case HypervisorEvent.Unpaused u -> events.publish(new QubeEvent(u.name(), "domain-unpaused", Map.of()));
            case HypervisorEvent.Created c -> events.publish(new QubeEvent(c.name(), "domain-spawn", Map.of()));
        }
    }

    /** Stops the volumes of a qube whose domain died, then marks it halted (DispVMs are removed). */
    private void afterDeath(HypervisorEvent.Died d, CompletableFuture<Void> done) {
        String name = d.name();
        try {
            var inv = inventory;
            inv.find(name).ifPresent(q -> storage.of(inv, q).stop());
        } catch (RuntimeException e) {
            LOG.error("qube {}: stopping its volumes failed: {}", name, e.getMessage());
        } finally {
            live.computeIfPresent(name, (k, v) -> v.domid() == d.domid() ? null : v);
            stops.remove(name, done);
            done.complete(null);
            var death = deaths.remove(name);
            if (death != null) {
                death.complete(null);
            }
            events.publish(new QubeEvent(name, "domain-shutdown", Map.of("reason", d.reason())));
            inventory.find(name).filter(q -> q.klass() == QubeClass.DispVM)
                    .filter(q -> inventory.value(q, Prop.AUTO_CLEANUP))
                    .ifPresent(q -> removeIfPresent(q.name()).whenComplete((v, err) -> {
                        if (err != null) {
                            LOG.error("could not remove DispVM {} after it stopped: {}", q.name(), err.getMessage());
                        }
                    }));
        }
    }

    @Override
    public void close() {
        var d = disposables.get();
        if (d != null) {
            d.preloaded().close();
        }
        memory.close();
        qubesdb.close();
        queues.close();
        stopper.shutdown();
    }
}
