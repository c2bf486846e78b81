package compart.core.hypervisor.libxl;

import compart.core.hypervisor.DomainSpec;
import compart.core.hypervisor.DomainStatus;
import compart.core.hypervisor.HostInfo;
import compart.core.hypervisor.Hypervisor;
import compart.core.hypervisor.HypervisorEvent;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.xl.libxl.DomainEvent;
import compart.xl.libxl.DomainInfo;
import compart.xl.libxl.DomainWatch;
import compart.xl.libxl.LibxlContext;
import compart.xl.libxl.ShutdownReason;
import compart.xl.xenstore.XenStore;
import compart.xl.xenstore.XenStorePermission;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real backend: Xen through libxl ({@link LibxlContext}). Creates domains paused from libxl JSON built by
 * {@link LibxlDomainConfigs}, watches each domain's shutdown and death, and acts as the toolstack must: a guest
 * that shut down (poweroff, reboot, crash) is destroyed, and its death is reported as
 * {@link HypervisorEvent.Died} with the shutdown reason.
 *
 * <p>Threads: every libxl call runs on a platform thread (a call from a virtual thread is handed to this
 * backend's own platform threads, since a blocking downcall would pin its carrier); no lock is held across a
 * native call (the domain table is a concurrent map). libxl's event thread only records and hands off: the
 * destroy after a shutdown and the closing of a watch run on the platform threads. Thread safe.
 */
public final class LibxlHypervisor implements Hypervisor {
    private static final Logger LOG = LoggerFactory.getLogger(LibxlHypervisor.class);

    private final LibxlContext ctx;
    /** The package's disk hotplug script when installed, else empty (Xen's {@code block}). */
    private final Optional<Path> blockScript;
    private final UncompressedKernels kernels = new UncompressedKernels(UncompressedKernels.DEFAULT_CACHE);
    private final ExecutorService calls;
    private final ConcurrentHashMap<Integer, Watched> domains = new ConcurrentHashMap<>();
    private final List<Consumer<HypervisorEvent>> listeners = new CopyOnWriteArrayList<>();
    private XenStore watchStore;

    /** One domain this backend watches. */
    private static final class Watched {
        final int domid;
        final String name;
        volatile DomainWatch watch;
        volatile ShutdownReason shutdown;

        Watched(int domid, String name) {
            this.domid = domid;
            this.name = name;
        }
    }

    private LibxlHypervisor(LibxlContext ctx) {
        this.ctx = ctx;
        this.blockScript = Files.isExecutable(LibxlDomainConfigs.BLOCK_SCRIPT)
                ? Optional.of(LibxlDomainConfigs.BLOCK_SCRIPT) : Optional.empty();
        LOG.info("disks are attached by {}", blockScript.map(Object::toString)
                .orElse("Xen's block script (" + LibxlDomainConfigs.BLOCK_SCRIPT + " is not installed)"));
        var n = new AtomicInteger();
        this.calls = Executors.newCachedThreadPool(r -> Thread.ofPlatform().daemon()
                .name("libxl-call-" + n.incrementAndGet()).unstarted(r));
    }

    /**
     * Opens libxl and starts watching the domains that exist already (other than dom0).
     *
     * @throws CompartException HYPERVISOR when this is not a Xen dom0 or libxl cannot be loaded
     */
    public static LibxlHypervisor open() {
        var hv = new LibxlHypervisor(LibxlContext.open());
        for (var d : hv.onPlatform(hv.ctx::listDomains)) {
            if (d.domid() != 0 && !d.name().isEmpty()) {
                try {
                    hv.watch(new Watched(d.domid(), d.name()));
                    LOG.info("watching existing domain {} ({})", d.domid(), d.name());
                } catch (CompartException e) {
                    LOG.warn("cannot watch existing domain {} ({}): {}", d.domid(), d.name(), e.getMessage());
                }
            }
        }
        return hv;
    }

    @Override
    public String name() {
        return "libxl";
    }

    @Override
    public HostInfo hostInfo() {
        var p = onPlatform(ctx::physInfo);
        return new HostInfo(p.totalKib() / 1024, p.freeKib() / 1024, p.nrCpus());
    }

    @Override
    public int createPaused(DomainSpec spec) {
        String json = LibxlDomainConfigs.json(directBoot(spec), this::domidOf, blockScript);
        LoggerFactory.getLogger("compart.qube." + spec.name()).info("libxl domain config:\n{}", json);
        int domid = onPlatform(() -> ctx.createPaused(json));
        var w = new Watched(domid, spec.name());
        try {
            watch(w);
        } catch (RuntimeException e) {
            domains.remove(domid);
            try {
                onPlatformRun(() -> ctx.destroy(domid));
            } catch (RuntimeException de) {
                e.addSuppressed(de);
            }
            throw e;
        }
        emit(new HypervisorEvent.Created(domid, spec.name()));
        return domid;
    }

    /** @return {@code spec} with a PVH kernel's uncompressed image, which libxl loads without unpacking it */
    private DomainSpec directBoot(DomainSpec spec) {
        if (spec.type() != DomainSpec.Type.PVH || spec.kernel().isEmpty()) {
            return spec;
        }
        Path image = kernels.forDirectBoot(Path.of(spec.kernel().get()));
        return new DomainSpec(spec.name(), spec.uuid(), spec.type(), spec.memoryMib(), spec.maxmemMib(),
                spec.vcpus(), Optional.of(image.toString()), spec.ramdisk(), spec.cmdline(), spec.disks(),
                spec.nics());
    }

    @Override
    public long needMemoryKib(DomainSpec spec) {
        String json = LibxlDomainConfigs.json(spec, this::domidOf, blockScript);
        return onPlatform(() -> ctx.needMemoryKib(json));
    }

    private void watch(Watched w) {
        domains.put(w.domid, w);
        try {
            w.watch = onPlatform(() -> ctx.watch(w.domid, e -> onLibxlEvent(w, e)));
        } catch (RuntimeException e) {
            domains.remove(w.domid);
            throw e;
        }
    }

    private int domidOf(String name) {
        for (var w : domains.values()) {
            if (w.name.equals(name)) {
                return w.domid;
            }
        }
        return onPlatform(() -> ctx.domainId(name)).orElseThrow(() -> new CompartException(ErrorKind.HYPERVISOR,
                "network backend " + name + " has no running domain: start it first"));
    }

    /** On libxl's event thread: record, and hand any libxl call to the platform threads. */
    private void onLibxlEvent(Watched w, DomainEvent e) {
        switch (e) {
            case DomainEvent.Shutdown s -> {
                w.shutdown = s.reason();
                LOG.info("domain {} ({}) shut down: {}; destroying it", w.domid, w.name, s.reason());
                calls.execute(() -> {
                    try {
                        ctx.destroy(w.domid);
                    } catch (RuntimeException ex) {
                        LOG.error("destroying domain {} ({}) after its shutdown failed: {}", w.domid, w.name,
                                ex.getMessage());
                    }
                });
            }
            case DomainEvent.Death d -> {
                if (!domains.remove(w.domid, w)) {
                    return;
                }
                var reason = w.shutdown == null ? "destroyed" : w.shutdown.name().toLowerCase(Locale.ROOT);
                calls.execute(() -> {
                    var watch = w.watch;
                    if (watch != null) {
                        watch.close();
                    }
                });
                emit(new HypervisorEvent.Died(w.domid, w.name, reason));
            }
        }
    }

    @Override
    public void unpause(int domid) {
        onKnownDomain(domid, ctx::unpause, HypervisorEvent.Unpaused::new);
    }

    @Override
    public void guestWritableNode(int domid, String relativePath) {
        known(domid);
        onPlatformRun(() -> {
            try (var xs = XenStore.open()) {
                String path = xs.domainPath(domid) + "/" + relativePath;
                xs.write(path, "");
                xs.setPermissions(path, List.of(new XenStorePermission(domid, XenStorePermission.Access.NONE)));
            }
        });
    }

    @Override
    public Runnable watchGuestNode(int domid, String relativePath, Consumer<String> untrustedValue) {
        known(domid);
        return onPlatform(() -> {
            var xs = watchStore();
            String path = xs.domainPath(domid) + "/" + relativePath;
            var watch = xs.watch(path, changed -> untrustedValue.accept(xs.read(path).orElse("")));
            return (Runnable) watch::close;
        });
    }

    /** @return the xenstore connection of the guest node watches, opened on first use */
    private synchronized XenStore watchStore() {
        if (watchStore == null) {
            watchStore = XenStore.open();
        }
        return watchStore;
    }

    @Override
    public void setMemoryTarget(int domid, long targetKib) {
        known(domid);
        onPlatformRun(() -> ctx.setMemoryTarget(domid, targetKib));
    }

    @Override
    public void pause(int domid) {
        onKnownDomain(domid, ctx::pause, HypervisorEvent.Paused::new);
    }

    @Override
    public void shutdown(int domid) {
        onKnownDomain(domid, ctx::shutdown, null);
    }

    @Override
    public void destroy(int domid) {
        onKnownDomain(domid, ctx::destroy, null);
    }

    /**
     * Runs one libxl call on a domain Compart started, then publishes what it did.
     *
     * @param done the event of the finished call (from the domid and the domain's name), or null when the domain's
     *             watch reports the outcome (a shutdown or destroy ends in {@link HypervisorEvent.Died})
     */
    private void onKnownDomain(int domid, IntConsumer call, BiFunction<Integer, String, HypervisorEvent> done) {
        var w = known(domid);
        onPlatformRun(() -> call.accept(domid));
        if (done != null) {
            emit(done.apply(domid, w.name));
        }
    }

    private Watched known(int domid) {
        var w = domains.get(domid);
        if (w == null) {
            throw CompartException.notFound("libxl: domain %d is not one of Compart's running domains", domid);
        }
        return w;
    }

    @Override
    public List<DomainStatus> list() {
        return onPlatform(ctx::listDomains).stream().filter(d -> d.domid() != 0 && !d.name().isEmpty())
                .map(LibxlHypervisor::info).toList();
    }

    @Override
    public Optional<DomainStatus> info(int domid) {
        if (domid == 0) {
            return Optional.empty();
        }
        return onPlatform(() -> ctx.domainInfo(domid)).map(LibxlHypervisor::info);
    }

    static DomainStatus info(DomainInfo d) {
        var state = d.paused() ? DomainStatus.State.PAUSED : d.shutdown() || d.dying() ? DomainStatus.State.SHUTTING_DOWN
                : DomainStatus.State.RUNNING;
        return new DomainStatus(d.domid(), d.name(), state, d.currentKib(), d.cpuTimeNanos());
    }

    @Override
    public void subscribe(Consumer<HypervisorEvent> listener) {
        listeners.add(listener);
    }

    private void emit(HypervisorEvent e) {
        for (var l : listeners) {
            try {
                l.accept(e);
            } catch (RuntimeException ex) {
                LOG.error("domain event listener failed on {}", e, ex);
            }
        }
    }

    /** As {@link #onPlatform(Supplier)}, for a call without result. */
    private void onPlatformRun(Runnable call) {
        onPlatform(() -> {
            call.run();
            return null;
        });
    }

    /** Runs a libxl call on a platform thread: this one, or one of ours when called from a virtual thread. */
    private <T> T onPlatform(Supplier<T> call) {
        if (!Thread.currentThread().isVirtual()) {
            return call.get();
        }
        try {
            return calls.submit(call::get).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new CompartException(ErrorKind.HYPERVISOR, "libxl call failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompartException(ErrorKind.HYPERVISOR, "interrupted while waiting for libxl", e);
        }
    }

    @Override
    public void close() {
        listeners.clear();
        for (var w : domains.values()) {
            var watch = w.watch;
            if (watch != null) {
                watch.close();
            }
        }
        calls.shutdown();
        synchronized (this) {
            if (watchStore != null) {
                watchStore.close();
            }
        }
        ctx.close(); // domains keep running: a restarted compartd finds them
    }
}
