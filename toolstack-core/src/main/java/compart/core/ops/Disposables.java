package compart.core.ops;

import compart.core.model.Inventory;
import compart.core.model.Prop;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import compart.core.model.VolumeDefinition;
import compart.core.qrexec.QrexecRouter;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.errors.Refusal;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unnamed disposables, made as Qubes makes them ({@code DispVM.from_appvm}): a DispVM named {@code dispN} whose
 * dispid N is random in 1..9999, unused by any qube and not used by a disposable removed in the last
 * {@link #NO_REUSE} (Qubes gives up after 100 tries, as here); based on a disposable template (an AppVM with
 * {@code template_for_dispvms=True}); {@code auto_cleanup=True}; with the template's explicitly set properties
 * (but its addresses), features (but {@code preload-dispvm*}), tags, firewall and volume pools, and the tags
 * {@code created-by-CALLER} and {@code disp-created-by-CALLER}.
 *
 * <p>A caller gets a preloaded disposable when its template has one ready ({@link #obtain}, see
 * {@link PreloadedDisposables}); {@link #create} always makes a new one.
 *
 * <p>Also the lifecycle of a qrexec call's target ({@link QrexecRouter.Targets}): a disposable is created and
 * started (or a preloaded one unpaused) and, when the call ends, killed and removed; a halted named target is
 * started first. Starting waits for the qube's qrexec agent (when this host has qrexec daemons) up to its
 * {@code qrexec_timeout}.
 *
 * <p>Thread safe.
 */
public final class Disposables implements QrexecRouter.Targets {
    private static final Logger LOG = LoggerFactory.getLogger(Disposables.class);
    /** How long the dispid of a removed disposable is not given again (Qubes: 7 days). */
    public static final Duration NO_REUSE = Duration.ofDays(7);
    private static final int TRIES = 100;
    private static final Set<String> NOT_CLONED = Set.of("name", "qid", "uuid", "klass", "template", "dispid",
            "auto_cleanup", "ip", "mac", "template_for_dispvms");

    private final Toolstack toolstack;
    private final InstantSource clock;
    private final RandomGenerator random;
    private final Map<Integer, Instant> removed = new ConcurrentHashMap<>();
    private final PreloadedDisposables preloaded;

    Disposables(Toolstack toolstack, InstantSource clock, RandomGenerator random) {
        this.toolstack = toolstack;
        this.clock = clock;
        this.random = random;
        this.preloaded = new PreloadedDisposables(toolstack, this);
    }

    /**
     * Creates (not starts) a disposable of {@code base}, as {@code admin.vm.CreateDisposable} does.
     *
     * @param base    the disposable template; null or empty when the caller has no {@code default_dispvm}
     * @param creator the qube that asked (for the {@code created-by-} tags)
     * @return the new qube
     * @throws CompartException NOT_FOUND (no such base), INVALID_STATE tagged {@link Refusal#NOT_DISPVM_TEMPLATE}
     *                          (no base, or not a disposable template), INVALID_STATE (no free dispid)
     */
    public Qube create(String base, String creator) {
        return make(base, creator, false);
    }

    /**
     * A disposable for a caller, as Qubes' {@code DispVM.from_appvm}: a preloaded one of {@code base} when there is
     * one ready in time (running, unpaused, tagged for {@code creator}), else a new one as {@link #create}.
     */
    public Qube obtain(String base, String creator) {
        if (base != null && !base.isEmpty()) {
            var taken = preloaded.take(base, creator);
            if (taken.isPresent()) {
                return taken.get();
            }
        }
        return create(base, creator);
    }

    /** @return the queues of preloaded disposables */
    public PreloadedDisposables preloaded() {
        return preloaded;
    }

    /**
     * Creates a disposable to preload, marked in the same change as Qubes marks one: {@code internal} and
     * {@value PreloadPlanner#IN_PROGRESS} on it, its name appended to the template's {@value PreloadPlanner#LIST};
     * without {@code created-by-} tags (a caller's are added when it is taken).
     */
    Qube createPreload(String base) {
        return make(base, "", true);
    }

    private Qube make(String base, String creator, boolean preload) {
        if (base == null || base.isEmpty()) {
            throw Refusal.NOT_DISPVM_TEMPLATE.exception("Refusing to create a disposable for %s: it has no "
                    + "default_dispvm (set the global property default_dispvm, or the qube's, to an AppVM with "
                    + "template_for_dispvms=True)", creator);
        }
        var inv = toolstack.inventory();
        var b = inv.qube(base);
        if (b.klass() != QubeClass.AppVM || !inv.value(b, Prop.TEMPLATE_FOR_DISPVMS)) {
            throw Refusal.NOT_DISPVM_TEMPLATE.exception("Refusing to create disposable out of %s %s, because "
                    + "template_for_dispvms=False (set it to True on an AppVM to make it a disposable template)",
                    b.klass(), base);
        }
        String name = null;
        for (int attempt = 1; name == null; attempt++) {
            int dispid = pick(random, toolstack.inventory(), removed, clock.instant());
            try {
                toolstack.create("disp" + dispid, before -> withDisposable(before, base, dispid, creator, preload));
                name = "disp" + dispid;
            } catch (CompartException e) {
                if (e.kind() != ErrorKind.ALREADY_EXISTS || attempt == 3) { // a concurrent create took it: again
                    throw e;
                }
            }
        }
        LOG.info("disposable {} created from {} for {}", name, base, creator);
        return toolstack.inventory().qube(name);
    }

    /** @return {@code before} with the disposable {@code dispN} of {@code base} added */
    private Inventory withDisposable(Inventory before, String base, int dispid, String creator, boolean preload) {
        String name = "disp" + dispid;
        if (before.qubes().values().stream().anyMatch(q -> q.dispid() == dispid)) {
            throw new CompartException(ErrorKind.ALREADY_EXISTS, "dispid " + dispid + " is in use");
        }
        var template = before.qube(base);
        var after = before.withNewQube(QubeClass.DispVM, name, before.value(template, Prop.LABEL).orElse("red"),
                Optional.of(base), random);
        after = inheritFromTemplate(after.withQube(after.qube(name).withDispid(dispid)), name, template);
        var d = after.qube(name);
        if (preload) {
            d = d.withFeature(PreloadPlanner.IN_PROGRESS, "1").withFeature("internal", "1");
            var list = new ArrayList<>(PreloadPlanner.preloads(after.qube(base)));
            list.add(name);
            after = after.withFeature(base, PreloadPlanner.LIST, PreloadPlanner.listValue(list));
        } else {
            d = d.withTag("created-by-" + creator, true).withTag("disp-created-by-" + creator, true);
        }
        after = after.withQube(d);
        return after.withProperty(name, Prop.AUTO_CLEANUP.name(), "True");
    }

    /**
     * What a new DispVM takes from its disposable template, as Qubes' DispVM does however it is created
     * ({@code admin.vm.CreateDisposable} or {@code admin.vm.Create.DispVM}): the pools and {@code rw} of its
     * volumes, the template's features (but {@code preload-dispvm*}), tags and firewall, and every property set
     * explicitly on the template that a qube may set (not name, qid, uuid, template, dispid, ip, mac, ...).
     *
     * @param after    the inventory holding the new DispVM {@code name}
     * @param template its disposable template
     * @return {@code after} with the DispVM changed so
     */
    public static Inventory inheritFromTemplate(Inventory after, String name, Qube template) {
        var d = after.qube(name);
        for (var v : d.volumes().values()) {
            var from = template.volumes().get(v.name());
            if (from != null && !v.name().equals("kernel")) {
                d = d.withVolume(new VolumeDefinition(v.name(), from.pool(), v.vid(), v.size(), from.rw(),
                        v.snapOnStart(), v.saveOnStop(), v.source(), v.revisionsToKeep(), from.ephemeral()));
            }
        }
        for (var f : template.features().entrySet()) {
            if (!f.getKey().startsWith("preload-dispvm")) {
                d = d.withFeature(f.getKey(), f.getValue());
            }
        }
        for (String t : template.tags()) {
            d = d.withTag(t, true);
        }
        after = after.withQube(d.withFirewall(template.firewall()));
        var defs = after.propertyDefs(d);
        for (var p : template.properties().entrySet()) {
            var def = defs.get(p.getKey());
            if (def != null && def.writable() && !NOT_CLONED.contains(p.getKey())) {
                after = after.withProperty(name, p.getKey(), p.getValue());
            }
        }
        return after;
    }

    /**
     * Chooses a dispid as Qubes does.
     *
     * @param removed dispids of removed disposables and when they were removed
     * @throws CompartException INVALID_STATE when {@value #TRIES} random tries found none free
     */
    static int pick(RandomGenerator random, Inventory inv, Map<Integer, Instant> removed, Instant now) {
        var used = new HashSet<Integer>();
        inv.qubes().values().forEach(q -> used.add(q.dispid()));
        for (int i = 0; i < TRIES; i++) {
            int dispid = 1 + random.nextInt(Qube.MAX_QID - 1);
            Instant gone = removed.get(dispid);
            if (used.contains(dispid) || inv.find("disp" + dispid).isPresent()
                    || gone != null && gone.plus(NO_REUSE).isAfter(now)) {
                continue;
            }
            return dispid;
        }
        throw CompartException.invalidState("cannot find an unused dispid after %d tries (%d qubes exist, %d "
                + "dispids were freed in the last %d days)", TRIES, inv.qubes().size(), removed.size(),
                NO_REUSE.toDays());
    }

    /** Notes that a disposable was removed: its dispid is not reused for {@link #NO_REUSE}. */
    void removed(Qube q) {
        if (q.klass() == QubeClass.DispVM) {
            removed.put(q.dispid(), clock.instant());
            var old = clock.instant().minus(NO_REUSE);
            removed.values().removeIf(t -> t.isBefore(old));
        }
    }

    @Override
    public String startDisposable(String base, String caller) {
        String name = obtain(base, caller).name();
        try {
            startForCall(name);
        } catch (RuntimeException e) {
            dispose(name);
            throw e;
        }
        return name;
    }

    @Override
    public void startForCall(String qube) {
        var q = toolstack.inventory().qube(qube);
        switch (toolstack.powerState(qube)) {
            case Halted -> toolstack.start(qube).join();
            case Paused -> toolstack.unpause(qube).join();
            default -> {
            }
        }
        var router = toolstack.qrexec();
        if (router.isEmpty()) {
            return; // simulated domains: no agent to wait for
        }
        var timeout = Duration.ofSeconds(toolstack.inventory().value(q, Prop.QREXEC_TIMEOUT));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!router.get().connected(qube)) {
            if (System.nanoTime() > deadline || toolstack.powerState(qube) == PowerState.Halted) {
                throw new CompartException(ErrorKind.TIMEOUT, "Cannot connect to qrexec agent of " + qube + " for "
                        + timeout.toSeconds() + " seconds (its state: " + toolstack.powerState(qube)
                        + "), see /var/log/xen/console/guest-" + qube + ".log for details");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CompartException(ErrorKind.TIMEOUT, "interrupted waiting for the agent of " + qube, e);
            }
        }
    }

    @Override
    public void dispose(String qube) {
        if (toolstack.inventory().find(qube).isEmpty()) {
            return;
        }
        try {
            toolstack.kill(qube).join();
        } catch (CompletionException e) {
            if (!(e.getCause() instanceof CompartException ce) || ce.refusal().orElse(null) != Refusal.NOT_RUNNING) {
                LOG.warn("disposable {}: kill failed: {}", qube, e.getCause().getMessage());
            }
        } catch (CompartException e) {
            if (e.kind() != ErrorKind.NOT_FOUND) { // removed meanwhile
                throw e;
            }
        }
        toolstack.removeIfPresent(qube).join();
        LOG.info("disposable {} removed", qube);
    }

    /** @return the explicit set of dispids not to be reused now (for tests and the log) */
    Set<Integer> recentlyRemoved() {
        return Set.copyOf(removed.keySet());
    }
}
