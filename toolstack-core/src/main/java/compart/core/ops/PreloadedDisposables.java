package compart.core.ops;

import compart.core.model.Inventory;
import compart.core.model.Prop;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.errors.Refusal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Preloaded disposables (Qubes 4.3): keeps up to {@value PreloadPlanner#MAX} disposables of a disposable template
 * booted and paused, hands one out when a disposable of that template is asked for, and refills. What to do is
 * decided by {@link PreloadPlanner}; this class does it.
 *
 * <ul>
 *   <li><b>Fill</b>: a disposable is created already marked (see {@link Disposables#createPreload}), started (the
 *       start waits for its qrexec agent, as every start of a qube with the feature {@code qrexec}), paused unless
 *       it was asked for meanwhile, and marked {@value PreloadPlanner#COMPLETED}. The number made at once is capped
 *       by the memory broker's available memory. A preload that fails is removed (and so leaves the list).</li>
 *   <li><b>Take</b> ({@link #take}): the oldest in the list leaves it in one change (two callers never get the same
 *       one); the caller waits for it to be ready (up to 1.2 × its {@code qrexec_timeout}, else a new disposable is
 *       made instead), it is unpaused, loses {@code internal} and is tagged for the caller; the template's
 *       {@code domain-preload-dispvm-used} event follows and the refill runs after {@value PreloadPlanner#DELAY}
 *       seconds.</li>
 *   <li><b>Converge</b>: on a change of the maximum (the template's, or dom0's for the global
 *       {@code default_dispvm}), of {@code template_for_dispvms} or of {@code default_dispvm}, and on
 *       {@code admin.vm.CreateDisposable+preload}: the excess is removed and the gap filled, after the template's
 *       {@code domain-preload-dispvm-start} event where Qubes fires one.</li>
 *   <li><b>Daemon start</b> ({@link #begin}): preloads that were being made or handed out, and completed ones whose
 *       domain is gone, are removed; then every template is converged (Qubes' autostart of preloads, which asks
 *       {@code CreateDisposable+preload} of each template with a maximum).</li>
 *   <li>A preloaded disposable unpaused by someone else is used: it leaves the list and the queue refills.</li>
 *   <li>A template whose only disposables are preloaded ones loses them when {@code template_for_dispvms} is set
 *       to False ({@link #changingDisposableTemplate}); a removed preloaded disposable leaves the list.</li>
 *   <li>When a disposable template or its TemplateVM stops, its preloads (snapshots of the volumes the stop
 *       replaced) are removed and the queue refilled 4 s later.</li>
 * </ul>
 *
 * <p>The work of one template runs in its own lane, in order; fills of one converge run in parallel. Not done as
 * Qubes does: the memory of a preload is not shrunk to its preference before the pause, its network is not
 * deferred until it is used, and preloads are not replaced when a property of their template changes.
 *
 * <p>Thread safe.
 */
public final class PreloadedDisposables implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PreloadedDisposables.class);
    /** The shortest wait before filling a gap seen when a disposable is asked for (Qubes: 5 s). */
    private static final double GAP_DELAY = 5;
    /** The wait before refilling after outdated preloads were removed (Qubes: 4 s). */
    private static final double OUTDATED_DELAY = 4;

    private final Toolstack toolstack;
    private final Disposables disposables;
    private final ExecutorService pool = Executors.newCachedThreadPool(
            r -> Thread.ofPlatform().daemon().name("preload").unstarted(r));
    private final ConcurrentHashMap<String, CompletableFuture<Void>> lanes = new ConcurrentHashMap<>();
    /** Disposables being preloaded: completes when one is ready (or failed). */
    private final ConcurrentHashMap<String, CompletableFuture<Void>> filling = new ConcurrentHashMap<>();
    /** Preloads taken by a caller and not yet handed out. */
    private final Set<String> requested = ConcurrentHashMap.newKeySet();
    /** Templates whose preloads are being removed before they stop being disposable templates: not refilled. */
    private final Set<String> suspended = ConcurrentHashMap.newKeySet();
    /** Orders a take against the creation of a preload (its name and its {@link #filling} entry appear together). */
    private final Object marking = new Object();
    private volatile AutoCloseable subscription;

    PreloadedDisposables(Toolstack toolstack, Disposables disposables) {
        this.toolstack = toolstack;
        this.disposables = disposables;
    }

    /**
     * Starts following the changes that move a queue, cleans up the preloads a previous daemon left broken and
     * fills every queue (in the background).
     */
    public void begin() {
        subscription = toolstack.events().subscribe(this::onEvent);
        var inv = toolstack.inventory();
        for (var t : PreloadPlanner.templates(inv)) {
            onLane(t.name(), () -> recover(t.name()));
            if (PreloadPlanner.max(inv, t) > 0) {
                trigger(t.name(), "autostart was requested", 0);
            } else {
                onLane(t.name(), () -> converge(t.name()));
            }
        }
    }

    /**
     * {@code admin.vm.CreateDisposable+preload}: the template's queue converged now; completes when its preloads
     * are ready.
     *
     * @param base the disposable template (a qube that is not one has no queue: nothing is done)
     * @throws CompartException INVALID_STATE tagged {@link Refusal#NOT_DISPVM_TEMPLATE} (no base), INVALID_VALUE (it
     *                          cannot run Qubes' readiness service), NOT_FOUND
     */
    public void preloadNow(String base) {
        var inv = toolstack.inventory();
        if (base.isEmpty()) {
            throw Refusal.NOT_DISPVM_TEMPLATE.exception("Refusing to preload disposables: the caller has no "
                    + "default_dispvm");
        }
        if (inv.checkFeature(inv.qube(base), "supported-rpc." + PreloadPlanner.READY_SERVICE, true, false, false)
                .filter(v -> !v.isEmpty()).isEmpty()) {
            throw CompartException.invalidValue("Qube does not support the RPC '%s' but tried to preload, check if "
                    + "template is outdated", PreloadPlanner.READY_SERVICE);
        }
        trigger(base, "autostart was requested", 0).join();
    }

    /**
     * Hands out a preloaded disposable of {@code base}, as Qubes' {@code request_preload} and {@code get_preload}.
     *
     * @return the disposable, running, tagged {@code created-by-CALLER} and {@code disp-created-by-CALLER}; empty
     *         when none is recorded or the one taken did not become ready in time (it is then removed)
     */
    public Optional<Qube> take(String base, String caller) {
        String name;
        CompletableFuture<Void> pending;
        synchronized (marking) {
            var inv = toolstack.inventory();
            var template = inv.find(base);
            if (template.isEmpty() || !PreloadPlanner.isDisposableTemplate(inv, template.get())) {
                return Optional.empty();
            }
            var list = PreloadPlanner.preloads(template.get());
            double delay = PreloadPlanner.delay(inv, template.get());
            if (list.size() < PreloadPlanner.max(inv, template.get()) && !(delay < 0 && !list.isEmpty())) {
                trigger(base, "there is a gap", Math.max(GAP_DELAY, delay));
            }
            var present = list.stream().filter(n -> inv.find(n).isPresent()).findFirst();
            if (present.isEmpty()) {
                return Optional.empty();
            }
            name = present.get();
            var after = toolstack.change(i -> {
                var taken = PreloadPlanner.withoutPreloads(i, base, List.of(name));
                return taken.find(name).isEmpty() ? taken : taken.withFeature(name, PreloadPlanner.IN_PROGRESS, "1");
            });
            if (after.find(name).isEmpty()) {
                return Optional.empty(); // removed meanwhile (its domain died): a new one is made
            }
            requested.add(name);
            pending = filling.get(name);
        }
        LOG.info("{}: preloaded disposable {} requested by {}", base, name, caller);
        try {
            if (pending != null) {
                long timeout = toolstack.inventory().value(toolstack.inventory().qube(name), Prop.QREXEC_TIMEOUT);
                pending.get(timeout * 1200, TimeUnit.MILLISECONDS);
            }
            switch (toolstack.powerState(name)) {
                case Paused -> toolstack.unpause(name).join();
                case Running, Transient -> {
                }
                default -> throw CompartException.invalidState("preloaded disposable %s is %s", name,
                        toolstack.powerState(name));
            }
        } catch (TimeoutException | ExecutionException | CompletionException | CompartException e) {
            LOG.warn("{}: preloaded disposable {} could not be handed out ({}): a new disposable is made instead",
                    base, name, e instanceof TimeoutException ? "not ready in time" : e.getMessage());
            requested.remove(name);
            execute(() -> disposables.dispose(name));
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            requested.remove(name);
            execute(() -> disposables.dispose(name));
            throw new CompartException(ErrorKind.TIMEOUT, "interrupted waiting for preloaded disposable " + name, e);
        }
        var inv = toolstack.change(i -> handedOut(i, base, name, caller));
        requested.remove(name);
        LOG.info("{}: preloaded disposable {} handed out to {}", base, name, caller);
        used(base, name);
        return Optional.of(inv.qube(name));
    }

    /** @return the inventory with {@code name} used: no longer internal (unless its template is), no mark left */
    private static Inventory handedOut(Inventory inv, String base, String name, String caller) {
        var d = inv.qube(name);
        if (!PreloadPlanner.on(inv.qube(base), "internal")) {
            d = d.withFeature("internal", null);
        }
        d = d.withFeature(PreloadPlanner.IN_PROGRESS, null);
        if (!caller.isEmpty()) {
            d = d.withTag("created-by-" + caller, true).withTag("disp-created-by-" + caller, true);
        }
        return inv.withQube(d);
    }

    /** The template's {@code domain-preload-dispvm-used} event, and its refill after the delay. */
    private void used(String base, String name) {
        var inv = toolstack.inventory();
        var template = inv.find(base);
        if (template.isEmpty()) {
            return;
        }
        double delay = PreloadPlanner.delay(inv, template.get());
        if (delay < 0 && !PreloadPlanner.preloads(template.get()).isEmpty()) {
            return;
        }
        var kwargs = new LinkedHashMap<String, String>();
        kwargs.put("dispvm", name);
        kwargs.put("delay", Double.toString(delay));
        toolstack.events().publish(new QubeEvent(base, "domain-preload-dispvm-used", kwargs));
        schedule(base, Math.abs(delay));
    }

    /**
     * Publishes the template's {@code domain-preload-dispvm-start} event and converges its queue after
     * {@code delay} seconds.
     *
     * @return completes when the converge ran
     */
    private CompletableFuture<Void> trigger(String template, String reason, double delay) {
        var kwargs = new LinkedHashMap<String, String>();
        kwargs.put("reason", reason);
        if (delay != 0) {
            kwargs.put("delay", Double.toString(delay));
        }
        toolstack.events().publish(new QubeEvent(template, "domain-preload-dispvm-start", kwargs));
        LOG.info("{}: preload queue to converge because {}{}", template, reason, delay != 0 ? " in " + delay
                + " s" : "");
        return delay == 0 ? onLane(template, () -> converge(template)) : schedule(template, Math.abs(delay));
    }

    private CompletableFuture<Void> schedule(String template, double seconds) {
        var done = new CompletableFuture<Void>();
        try {
            CompletableFuture.delayedExecutor((long) (seconds * 1000), TimeUnit.MILLISECONDS, pool).execute(() ->
                    onLane(template, () -> converge(template)).whenComplete((v, e) -> done.complete(null)));
        } catch (RejectedExecutionException e) {
            done.complete(null);
        }
        return done;
    }

    /** Runs {@code work} after the template's earlier work; a failure is logged. */
    private CompletableFuture<Void> onLane(String template, Runnable work) {
        return lanes.compute(template, (k, before) -> (before == null ? CompletableFuture.<Void>completedFuture(null)
                : before).thenRunAsync(() -> {
                    try {
                        work.run();
                    } catch (RuntimeException e) {
                        LOG.error("{}: preloading failed: {}", template, e.getMessage(), e);
                    }
                }, pool).exceptionally(e -> null));
    }

    private void execute(Runnable r) {
        try {
            pool.execute(r);
        } catch (RejectedExecutionException e) {
            LOG.debug("closed: not run");
        }
    }

    /**
     * Changes {@code template_for_dispvms} as Qubes does when it is set to False: a template whose only disposables
     * are its preloaded ones loses them, then the property. When other disposables are based on it the change is
     * refused (naming one of those) and the preloads stay.
     *
     * @param template the qube whose property changes
     * @param change   the inventory change; applied as it is if it can be, else after the preloads are removed
     * @return the new inventory
     */
    public Inventory changingDisposableTemplate(String template, UnaryOperator<Inventory> change) {
        try {
            return toolstack.change(change);
        } catch (CompartException refused) {
            var inv = toolstack.inventory();
            var list = inv.find(template).map(PreloadPlanner::preloads).orElse(List.of());
            if (list.isEmpty()) {
                throw refused;
            }
            var without = PreloadPlanner.withoutPreloads(inv, template, list);
            for (String n : list) {
                without = without.find(n).isPresent() ? without.withoutQube(n) : without;
            }
            change.apply(without); // refused without the preloads too: that refusal, which names another qube
            suspended.add(template);
            try {
                onLane(template, () -> drain(template)).join();
                return toolstack.change(change);
            } finally {
                suspended.remove(template);
                onLane(template, () -> converge(template));
            }
        }
    }

    /**
     * Replaces the template's preloads after it or its TemplateVM stopped (Qubes' {@code refresh_outdated_preload}):
     * their volumes are snapshots of revisions the stop replaced. They are removed now and the queue refilled 4 s
     * later. In its lane.
     */
    private void refresh(String template) {
        var list = toolstack.inventory().find(template).map(PreloadPlanner::preloads).orElse(List.of());
        if (list.isEmpty()) {
            return;
        }
        LOG.info("{}: removing preloaded disposables of outdated volumes: {}", template, String.join(", ", list));
        toolstack.change(i -> PreloadPlanner.withoutPreloads(i, template, list));
        var removals = list.stream().map(n -> CompletableFuture.runAsync(() -> disposables.dispose(n), pool))
                .toArray(CompletableFuture[]::new);
        CompletableFuture.allOf(removals).exceptionally(e -> null).join();
        trigger(template, "of outdated volume(s)", OUTDATED_DELAY);
    }

    /** Removes every preloaded disposable of the template (in its lane). */
    private void drain(String template) {
        var list = toolstack.inventory().find(template).map(PreloadPlanner::preloads).orElse(List.of());
        LOG.info("{}: removing its preloaded disposables: template_for_dispvms is set to False", template);
        toolstack.change(i -> PreloadPlanner.withoutPreloads(i, template, list));
        list.forEach(disposables::dispose);
    }

    /** Brings the template's queue to its plan: drops absent names and the excess, fills the gap. In its lane. */
    private void converge(String template) {
        if (suspended.contains(template)) {
            return;
        }
        var inv = toolstack.inventory();
        var t = inv.find(template);
        if (t.isEmpty()) {
            return;
        }
        var plan = PreloadPlanner.plan(inv, t.get(), toolstack.memory().availableMemoryNow());
        if (!plan.keep().equals(PreloadPlanner.preloads(t.get()))) {
            toolstack.change(i -> i.find(template).isEmpty() ? i : PreloadPlanner.withoutPreloads(i, template,
                    PreloadPlanner.preloads(i.qube(template)).stream().filter(n -> !plan.keep().contains(n))
                            .toList()));
        }
        if (!plan.remove().isEmpty()) {
            LOG.info("{}: removing excess preloaded disposables: {}", template, String.join(", ", plan.remove()));
            var removals = plan.remove().stream().map(n -> CompletableFuture.runAsync(() -> disposables.dispose(n),
                    pool)).toArray(CompletableFuture[]::new);
            CompletableFuture.allOf(removals).exceptionally(e -> null).join();
        }
        if (plan.skippedForMemory() > 0) {
            LOG.warn("{}: not preloading {} disposable(s) due to insufficient memory", template,
                    plan.skippedForMemory());
        }
        if (plan.create() > 0) {
            LOG.info("{}: preloading {} disposable(s)", template, plan.create());
            var fills = new ArrayList<CompletableFuture<Void>>();
            for (int i = 0; i < plan.create(); i++) {
                fills.add(CompletableFuture.runAsync(() -> fill(template), pool));
            }
            CompletableFuture.allOf(fills.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
        }
    }

    /** Makes one preloaded disposable: created marked, started, paused unless taken, marked completed. */
    private void fill(String template) {
        String name;
        var ready = new CompletableFuture<Void>();
        synchronized (marking) {
            try {
                name = disposables.createPreload(template).name();
            } catch (RuntimeException e) {
                LOG.warn("{}: cannot create a disposable to preload: {}", template, e.getMessage());
                return;
            }
            filling.put(name, ready);
        }
        try {
            toolstack.start(name).join();
            if (!requested.contains(name)) {
                toolstack.pause(name).join();
            }
            toolstack.change(i -> {
                var d = i.qube(name).withFeature(PreloadPlanner.COMPLETED, "1");
                return i.withQube(requested.contains(name) ? d : d.withFeature(PreloadPlanner.IN_PROGRESS, ""));
            });
            LOG.info("{}: preloaded disposable {} is ready", template, name);
            ready.complete(null);
        } catch (RuntimeException e) {
            var cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            LOG.warn("{}: preloading {} failed, removing it: {}", template, name, cause.getMessage());
            ready.completeExceptionally(cause);
            try {
                disposables.dispose(name);
            } catch (RuntimeException removal) {
                LOG.error("{}: cannot remove the failed preload {}: {}", template, name, removal.getMessage());
            }
        } finally {
            filling.remove(name, ready);
        }
    }

    /** After a daemon start: removes the preloads of {@code template} a previous daemon left broken. */
    private void recover(String template) {
        var inv = toolstack.inventory();
        var stale = PreloadPlanner.stale(inv, inv.qube(template), n -> toolstack.powerState(n) != PowerState.Halted);
        if (stale.isEmpty()) {
            return;
        }
        LOG.info("{}: removing preloaded disposables whose preloading was interrupted: {}", template,
                String.join(", ", stale));
        toolstack.change(i -> PreloadPlanner.withoutPreloads(i, template, stale));
        stale.forEach(disposables::dispose);
    }

    /**
     * The changes that move a queue (called under the inventory's write lock: only schedules). The template's
     * {@code domain-preload-dispvm-start} event is published where Qubes fires it: a maximum set on a disposable
     * template (not overridden by dom0's), dom0's maximum set or removed (on the global {@code default_dispvm}), and
     * {@code template_for_dispvms} set to True with room in the queue; the other changes converge the queue without
     * it (Qubes removes the preloads at once there).
     */
    private void onEvent(QubeEvent e) {
        try {
            follow(e);
        } catch (RuntimeException failure) { // the bus drops a listener that throws: log, stay subscribed
            LOG.error("preloads: event {} of {} not followed: {}", e.name(), e.subject(), failure.getMessage(),
                    failure);
        }
    }

    private void follow(QubeEvent e) {
        String name = e.name();
        String subject = e.subject();
        var inv = toolstack.inventory();
        switch (name) {
            case "domain-feature-set:" + PreloadPlanner.MAX, "domain-feature-delete:" + PreloadPlanner.MAX -> {
                boolean set = name.startsWith("domain-feature-set");
                String value = "'" + e.kwargs().get("value") + "'";
                if (subject.equals("dom0")) {
                    inv.globalValue(Prop.Global.DEFAULT_DISPVM).ifPresent(d -> trigger(d, set
                            ? "global feature was set to " + value : "global feature was deleted", 0));
                    return;
                }
                var q = inv.find(subject).filter(t -> !PreloadPlanner.globalSet(inv, t));
                if (q.isPresent() && set && PreloadPlanner.isDisposableTemplate(inv, q.get())) {
                    trigger(subject, "local feature was set to " + value, 0);
                } else if (q.isPresent()) {
                    onLane(subject, () -> converge(subject));
                }
            }
            case "property-set:template_for_dispvms", "property-reset:template_for_dispvms" -> {
                var q = inv.find(subject);
                if (q.isPresent() && PreloadPlanner.isDisposableTemplate(inv, q.get())
                        && PreloadPlanner.preloads(q.get()).size() < PreloadPlanner.max(inv, q.get())) {
                    trigger(subject, "template_for_dispvms was set to True", 0);
                } else if (q.isPresent()) {
                    onLane(subject, () -> converge(subject));
                }
            }
            case "property-set:default_dispvm", "property-reset:default_dispvm" -> {
                if (subject.isEmpty()) {
                    PreloadPlanner.templates(inv).forEach(t -> onLane(t.name(), () -> converge(t.name())));
                }
            }
            case "domain-unpaused" -> usedUnasked(inv, subject);
            case "domain-shutdown" -> {
                for (var t : PreloadPlanner.templates(inv)) {
                    if (t.name().equals(subject) || inv.value(t, Prop.TEMPLATE).filter(subject::equals).isPresent()) {
                        onLane(t.name(), () -> refresh(t.name()));
                    }
                }
            }
            default -> {
            }
        }
    }

    /** A preloaded disposable unpaused without being taken is used (Qubes: marked used, the queue refilled). */
    private void usedUnasked(Inventory inv, String qube) {
        if (requested.contains(qube) || filling.containsKey(qube)) {
            return;
        }
        var d = inv.find(qube).filter(q -> q.klass() == QubeClass.DispVM);
        var base = d.flatMap(q -> inv.value(q, Prop.TEMPLATE));
        if (base.isEmpty() || inv.find(base.get()).isEmpty()
                || !PreloadPlanner.preloads(inv.qube(base.get())).contains(qube)) {
            return;
        }
        LOG.warn("{}: preloaded disposable {} was unpaused without being requested: it is used", base.get(), qube);
        execute(() -> {
            toolstack.change(i -> {
                var after = PreloadPlanner.withoutPreloads(i, base.get(), List.of(qube));
                return after.find(qube).isEmpty() ? after : handedOut(after, base.get(), qube, "")
                        .withFeature(qube, PreloadPlanner.IN_PROGRESS, "");
            });
            used(base.get(), qube);
        });
    }

    @Override
    public void close() {
        var s = subscription;
        if (s != null) {
            try {
                s.close();
            } catch (Exception e) {
                LOG.debug("unsubscribe: {}", e.toString());
            }
        }
        pool.shutdownNow();
    }
}
