package compart.core.ops;

import compart.core.hypervisor.Hypervisor;
import compart.core.memory.MemoryBroker;
import compart.core.memory.MemoryReservation;
import compart.core.model.Inventory;
import compart.core.model.Prop;
import compart.core.model.Qube;
import compart.core.qrexec.QrexecRouter;
import compart.core.qubesdb.QubesDbDaemons;
import compart.core.storage.QubeStorage;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.errors.Refusal;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out one start plan of {@link StartPlanner}: one method per {@link Step}, each doing the step and
 * returning its undo (null when there is nothing to undo); {@link PlanExecutor} runs them in order and undoes the
 * completed ones when a step fails. What the run learns as it goes (the block device files once the volumes are
 * started, the domid once the domain exists) is kept in its {@link Context}.
 *
 * <p>One instance per start, used by one thread (the qube's queue).
 */
final class StartRun {
    /**
     * What one start knows: the qube and the inventory it was planned from, its volumes (bound to that
     * inventory), its per-qube log, and what earlier steps found.
     */
    static final class Context {
        private final Inventory inventory;
        private final Qube qube;
        private final QubeStorage volumes;
        private final Logger log;
        private Map<String, Path> devices;
        private int domid = -1;
        private MemoryReservation memory;

        /**
         * @param inventory the inventory the plan was computed from
         * @param volumes   the storage of the qube to start, bound to {@code inventory}
         */
        Context(Inventory inventory, QubeStorage volumes) {
            this.inventory = inventory;
            this.qube = volumes.qube();
            this.volumes = volumes;
            this.log = LoggerFactory.getLogger("compart.qube." + qube.name());
        }

        String name() {
            return qube.name();
        }

        /** @return the files backing the started volumes' block devices, by volume name */
        Map<String, Path> devices() {
            if (devices == null) {
                throw new IllegalStateException("start of " + name() + ": volumes not prepared yet");
            }
            return devices;
        }

        /** @return the domain's id (known once it is created) */
        int domid() {
            if (domid < 0) {
                throw new IllegalStateException("start of " + name() + ": no domain created yet");
            }
            return domid;
        }
    }

    private final Hypervisor hypervisor;
    private final MemoryBroker memory;
    private final QrexecRouter qrexec;
    private final ConcurrentMap<String, Toolstack.Live> live;
    private final Consumer<String> startNetvm;
    private final QubesDbDaemons qubesdb;
    private final Supplier<Inventory> current;
    private final Context run;

    /**
     * @param hypervisor the backend
     * @param memory     the memory broker, which reserves the domain's memory under its lock
     * @param qrexec     dom0's qrexec daemons, null when the domains have no agent
     * @param live       the toolstack's live state of each qube, updated as the domain is created and runs
     * @param startNetvm starts a netvm and waits until it runs
     * @param qubesdb    dom0's QubesDB daemons
     * @param current    the toolstack's current inventory (the QubesDB follows changes made during the start)
     * @param run        the start's context
     */
    StartRun(Hypervisor hypervisor, MemoryBroker memory, QrexecRouter qrexec, ConcurrentMap<String, Toolstack.Live> live,
             Consumer<String> startNetvm, QubesDbDaemons qubesdb, Supplier<Inventory> current, Context run) {
        this.hypervisor = hypervisor;
        this.memory = memory;
        this.qrexec = qrexec;
        this.live = live;
        this.startNetvm = startNetvm;
        this.qubesdb = qubesdb;
        this.current = current;
        this.run = run;
    }

    /** Runs the plan; on failure, undoes the completed steps and throws what failed and what was undone. */
    void execute(List<Step> steps) {
        PlanExecutor.execute("start of " + run.name(), steps, this::step, run.log);
    }

    private Runnable step(Step step) {
        return switch (step) {
            case Step.StartNetvm s -> startNetvm(s);
            case Step.CheckMemory s -> checkMemory(s);
            case Step.PrepareVolumes s -> prepareVolumes(s);
            case Step.CreatePaused s -> createPaused(s);
            case Step.FillQubesDb s -> fillQubesDb(s);
            case Step.Unpause s -> unpause(s);
            case Step.ConnectQrexec s -> connectQrexec(s);
        };
    }

    /** Starts the netvm; it stays up if a later step fails, as in Qubes. */
    private Runnable startNetvm(Step.StartNetvm s) {
        startNetvm.accept(s.qube());
        return null;
    }

    /**
     * Reserves the domain's memory with the broker, under its one lock (other qubes are asked to give memory back
     * when needed); fails fast with Qubes' message when it cannot be had. Undone by giving the pages back, unless
     * the domain was created (it then holds them).
     */
    private Runnable checkMemory(Step.CheckMemory s) {
        long bytes = s.mib() * 1024 * 1024; // Qubes' figure: memory and qubesd's fixed overhead
        try {
            bytes = Math.max(bytes, hypervisor.needMemoryKib(DomainSpecs.withoutDisks(run.inventory, run.qube)) * 1024);
        } catch (CompartException e) {
            run.log.warn("libxl_domain_need_memory failed ({}): reserving Qubes' figure, {} MiB", e.getMessage(),
                    s.mib());
        }
        run.memory = memory.reserve(run.name(), bytes);
        return run.memory::close;
    }

    /** Starts the volumes and keeps the files backing their block devices in the context. */
    private Runnable prepareVolumes(Step.PrepareVolumes s) {
        for (var v : s.volumes()) {
            if (!v.name().equals("kernel") && !run.inventory.pools().containsKey(v.pool())) {
                throw new CompartException(ErrorKind.STORAGE, "volume " + run.name() + ":" + v.name()
                        + " is in pool " + v.pool() + ", which does not exist");
            }
        }
        run.devices = run.volumes.start();
        run.log.info("volumes started: {}", run.devices);
        return run.volumes::stop;
    }

    /** Creates the domain, paused, from the planned spec with the disks the volumes now back. */
    private Runnable createPaused(Step.CreatePaused s) {
        var spec = DomainSpecs.withDisks(s.spec(), s.disks(), this::devicePath);
        run.log.info("domain spec: {}", spec);
        int domid = hypervisor.createPaused(spec);
        run.domid = domid;
        if (run.memory != null) { // the domain holds its pages now; maxmem 0: no meminfo-writer, a fixed size
            run.memory.handOver(domid, spec.maxmemMib() * 1024 * 1024,
                    run.inventory.value(run.qube, Prop.MAXMEM) > 0);
        }
        live.put(run.name(), new Toolstack.Live(domid, PowerState.Transient));
        return () -> {
            live.remove(run.name());
            if (hypervisor.info(domid).isPresent()) { // it may have died on its own meanwhile
                hypervisor.destroy(domid);
            }
        };
    }

    /** @return the file backing a volume's block device: as started, or the kernel files for kernel volumes */
    private String devicePath(String volume) {
        var started = run.devices().get(volume);
        return (started != null ? started : run.volumes.blockDevicePath(run.qube.volumes().get(volume)))
                .toString();
    }

    /**
     * Fills and serves the qube's QubesDB while the domain is paused, and (memory balancing on: maxmem above 0)
     * gives the qube its {@code memory/meminfo} xenstore node; undone by ending the database (the node goes with
     * the domain).
     */
    private Runnable fillQubesDb(Step.FillQubesDb s) {
        if (run.inventory.value(run.qube, Prop.MAXMEM) > 0) {
            hypervisor.guestWritableNode(run.domid(), "memory/meminfo");
            run.log.info("xenstore: memory/meminfo of {} (domain {}) created, writable by the qube's meminfo-writer",
                    s.qube(), run.domid());
        }
        qubesdb.start(current, s.qube(), run.domid(), q -> {
            var l = live.get(q);
            return l != null && l.state() != PowerState.Dying;
        });
        return () -> qubesdb.stop(s.qube());
    }

    private Runnable unpause(Step.Unpause s) {
        hypervisor.unpause(run.domid());
        live.put(run.name(), new Toolstack.Live(run.domid(), PowerState.Running));
        return null;
    }

    /**
     * Connects dom0's qrexec daemon to the qube's agent: waiting (feature {@code qrexec}: the start fails as Qubes'
     * does when the agent does not answer within {@code qrexec_timeout}), or in the background.
     */
    private Runnable connectQrexec(Step.ConnectQrexec s) {
        String name = s.qube();
        int domid = run.domid();
        if (!s.required()) {
            Thread.ofPlatform().daemon().name("qrexec-connect-" + name).start(() -> {
                try {
                    qrexec.attach(name, domid, s.timeout(), () -> hypervisor.info(domid).isPresent());
                    var l = live.get(name);
                    if (l == null || l.domid() != domid) { // died or restarted meanwhile
                        qrexec.detach(name);
                    }
                } catch (CompartException e) {
                    run.log.info("no qrexec agent in {} (domain {}): {}", name, domid, e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            return () -> qrexec.detach(name);
        }
        try {
            qrexec.attach(name, domid, s.timeout(), () -> hypervisor.info(domid).isPresent());
        } catch (CompartException e) {
            if (e.kind() != ErrorKind.TIMEOUT) {
                throw e;
            }
            throw new CompartException(ErrorKind.TIMEOUT, "Cannot connect to qrexec agent for "
                    + s.timeout().toSeconds() + " seconds, see /var/log/xen/console/guest-" + name
                    + ".log for details (qube " + name + ", qrexec_timeout " + s.timeout().toSeconds() + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompartException(ErrorKind.TIMEOUT, "start of " + name + " interrupted while waiting for its "
                    + "qrexec agent", e);
        }
        return () -> qrexec.detach(name);
    }
}
