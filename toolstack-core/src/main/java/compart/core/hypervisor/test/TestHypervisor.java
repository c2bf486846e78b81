package compart.core.hypervisor.test;

import compart.core.hypervisor.DomainSpec;
import compart.core.hypervisor.DomainStatus;
import compart.core.hypervisor.HostInfo;
import compart.core.hypervisor.Hypervisor;
import compart.core.hypervisor.HypervisorEvent;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * The simulated hypervisor named {@code test}: domains live in memory, with libxl's rules (names unique, memory
 * admitted against the host's free memory, pause only a running domain, unpause only a paused one). A guest obeys
 * a shutdown request at once unless told to {@link #ignoreShutdown ignore} it, and its balloon driver reaches a
 * memory target at once unless told to {@link #ignoreBalloon ignore} it; a test plays the guest writing its
 * guest-writable xenstore nodes with {@link #guestWrite}. Faults can be injected with
 * {@link #failNext} to exercise the callers' rollback. Thread safe.
 */
public final class TestHypervisor implements Hypervisor {
    private final long totalMemoryMib;
    private final int cpus;
    private final Map<Integer, Domain> domains = new HashMap<>();
    private final List<Consumer<HypervisorEvent>> listeners = new CopyOnWriteArrayList<>();
    private final Set<String> failNext = new HashSet<>();
    private final Set<String> ignoringShutdown = new HashSet<>();
    private final Set<String> ignoringBalloon = new HashSet<>();
    private final List<String> calls = new ArrayList<>();
    private int nextDomid = 1;

    private static final class Domain {
        final int domid;
        final DomainSpec spec;
        DomainStatus.State state = DomainStatus.State.PAUSED;
        long cpuTimeNs;
        long currentKib;
        final Set<String> guestWritable = new TreeSet<>();
        final Map<String, String> guestNodes = new HashMap<>();
        final Map<String, List<Consumer<String>>> watchers = new HashMap<>();

        Domain(int domid, DomainSpec spec) {
            this.domid = domid;
            this.spec = spec;
            this.currentKib = spec.memoryMib() * 1024;
        }
    }

    /**
     * @param totalMemoryMib the simulated host's memory (dom0's share is not counted)
     * @param cpus           its CPUs
     */
    public TestHypervisor(long totalMemoryMib, int cpus) {
        this.totalMemoryMib = totalMemoryMib;
        this.cpus = cpus;
    }

    @Override
    public String name() {
        return "test";
    }

    /** Makes the next call of {@code operation} (createPaused, unpause, pause, shutdown, destroy,
     * setMemoryTarget) fail. */
    public synchronized void failNext(String operation) {
        failNext.add(operation);
    }

    /** Makes the guest of domain {@code name} ignore shutdown requests (a hung guest). */
    public synchronized void ignoreShutdown(String name) {
        ignoringShutdown.add(name);
    }

    /** Makes the balloon driver of domain {@code name} ignore memory targets (a donor that does not give back). */
    public synchronized void ignoreBalloon(String name) {
        ignoringBalloon.add(name);
    }

    /**
     * Plays the guest of domain {@code name} writing one of its xenstore nodes, as {@code meminfo-writer} writes
     * {@code memory/meminfo}; the watchers of the node are told (after the write, outside this hypervisor's lock).
     *
     * @throws CompartException NOT_FOUND for no such running domain; INVALID_STATE for a node the guest may not
     *                          write (xenstore's permissions would refuse it)
     */
    public void guestWrite(String name, String relativePath, String value) {
        List<Consumer<String>> told;
        synchronized (this) {
            var d = domains.values().stream().filter(x -> x.spec.name().equals(name)).findFirst()
                    .orElseThrow(() -> CompartException.notFound("test hypervisor: no domain named %s", name));
            if (!d.guestWritable.contains(relativePath)) {
                throw CompartException.invalidState("test hypervisor: domain %s may not write %s", name, relativePath);
            }
            d.guestNodes.put(relativePath, value);
            told = List.copyOf(d.watchers.getOrDefault(relativePath, List.of()));
        }
        told.forEach(w -> w.accept(value));
    }

    /** @return the calls made so far, as {@code op name}, oldest first */
    public synchronized List<String> calls() {
        return List.copyOf(calls);
    }

    /** @return the spec a live domain was created with */
    public synchronized Optional<DomainSpec> specOf(String name) {
        return domains.values().stream().filter(d -> d.spec.name().equals(name)).map(d -> d.spec).findFirst();
    }

    private void maybeFail(String op, String name) {
        calls.add(op + " " + name);
        if (failNext.remove(op)) {
            throw new CompartException(ErrorKind.HYPERVISOR, "test hypervisor: injected failure of " + op
                    + " for domain " + name);
        }
    }

    private Domain get(int domid) {
        var d = domains.get(domid);
        if (d == null) {
            throw CompartException.notFound("test hypervisor: no domain with id %d", domid);
        }
        return d;
    }

    @Override
    public synchronized HostInfo hostInfo() {
        return new HostInfo(totalMemoryMib, totalMemoryMib - used(), cpus);
    }

    /** @return MiB assigned to the domains, rounded up */
    private long used() {
        return (domains.values().stream().mapToLong(d -> d.currentKib).sum() + 1023) / 1024;
    }

    /** @return the spec's memory: this hypervisor admits a domain against exactly that */
    @Override
    public long needMemoryKib(DomainSpec spec) {
        return spec.memoryMib() * 1024;
    }

    @Override
    public int createPaused(DomainSpec spec) {
        HypervisorEvent event;
        synchronized (this) {
            maybeFail("createPaused", spec.name());
            if (domains.values().stream().anyMatch(d -> d.spec.name().equals(spec.name()))) {
                throw new CompartException(ErrorKind.HYPERVISOR, "test hypervisor: a domain named " + spec.name()
                        + " exists already");
            }
            long free = totalMemoryMib - used();
            if (spec.memoryMib() > free) {
                throw new CompartException(ErrorKind.HYPERVISOR, "test hypervisor: not enough memory for "
                        + spec.name() + ": needs " + spec.memoryMib() + " MiB, " + free + " MiB free");
            }
            for (var nic : spec.nics()) {
                if (domains.values().stream().noneMatch(d -> d.spec.name().equals(nic.backend()))) {
                    throw new CompartException(ErrorKind.HYPERVISOR, "test hypervisor: network backend "
                            + nic.backend() + " of " + spec.name() + " is not running");
                }
            }
            int domid = nextDomid++;
            domains.put(domid, new Domain(domid, spec));
            event = new HypervisorEvent.Created(domid, spec.name());
        }
        emit(event);
        return event.domid();
    }

    @Override
    public void unpause(int domid) {
        transition(domid, "unpause", DomainStatus.State.PAUSED, DomainStatus.State.RUNNING,
                HypervisorEvent.Unpaused::new);
    }

    /** Records the node (there is no xenstore here); {@link #guestWritableNodes} lists them. */
    @Override
    public synchronized void guestWritableNode(int domid, String relativePath) {
        var d = domains.get(domid);
        if (d == null) {
            throw CompartException.notFound("test hypervisor: no domain %d", domid);
        }
        d.guestWritable.add(relativePath);
    }

    /** @return the xenstore nodes made writable by the running domain named {@code name} */
    public synchronized Set<String> guestWritableNodes(String name) {
        return domains.values().stream().filter(d -> d.spec.name().equals(name)).findFirst()
                .map(d -> Set.copyOf(d.guestWritable)).orElse(Set.of());
    }

    @Override
    public Runnable watchGuestNode(int domid, String relativePath, Consumer<String> untrustedValue) {
        String now;
        synchronized (this) {
            var d = get(domid);
            d.watchers.computeIfAbsent(relativePath, k -> new CopyOnWriteArrayList<>()).add(untrustedValue);
            now = d.guestNodes.getOrDefault(relativePath, "");
        }
        untrustedValue.accept(now); // xenstored fires a new watch once
        return () -> {
            synchronized (this) {
                var d = domains.get(domid);
                if (d != null) {
                    d.watchers.getOrDefault(relativePath, List.of()).remove(untrustedValue);
                }
            }
        };
    }

    /**
     * Sets the target; the domain's memory follows at once (growing only into free memory) unless its balloon is
     * ignored.
     */
    @Override
    public synchronized void setMemoryTarget(int domid, long targetKib) {
        var d = get(domid);
        maybeFail("setMemoryTarget", d.spec.name());
        if (targetKib <= 0 || targetKib > d.spec.maxmemMib() * 1024) {
            throw CompartException.invalidValue("test hypervisor: memory target %d KiB of %s is not within 1.."
                    + "%d KiB (its maxmem)", targetKib, d.spec.name(), d.spec.maxmemMib() * 1024);
        }
        if (!ignoringBalloon.contains(d.spec.name())) {
            // a growing balloon gets only the pages the hypervisor has free, as a real one
            d.currentKib = Math.min(targetKib, d.currentKib + Math.max(0, totalMemoryMib - used()) * 1024);
        }
    }

    @Override
    public void pause(int domid) {
        transition(domid, "pause", DomainStatus.State.RUNNING, DomainStatus.State.PAUSED, HypervisorEvent.Paused::new);
    }

    /** Moves a domain from state {@code from} to {@code to} (INVALID_STATE in another), then emits the event. */
    private void transition(int domid, String op, DomainStatus.State from, DomainStatus.State to,
                            BiFunction<Integer, String, HypervisorEvent> event) {
        HypervisorEvent happened;
        synchronized (this) {
            var d = get(domid);
            maybeFail(op, d.spec.name());
            if (d.state != from) {
                throw CompartException.invalidState("test hypervisor: domain %s is %s, not %s", d.spec.name(),
                        d.state, from.name().toLowerCase(Locale.ROOT));
            }
            d.state = to;
            happened = event.apply(domid, d.spec.name());
        }
        emit(happened);
    }

    @Override
    public void shutdown(int domid) {
        HypervisorEvent event = null;
        synchronized (this) {
            var d = get(domid);
            maybeFail("shutdown", d.spec.name());
            if (d.state == DomainStatus.State.PAUSED) {
                throw CompartException.invalidState("test hypervisor: domain %s is paused: a paused guest cannot "
                        + "shut down", d.spec.name());
            }
            d.state = DomainStatus.State.SHUTTING_DOWN;
            if (!ignoringShutdown.contains(d.spec.name())) {
                domains.remove(domid);
                event = new HypervisorEvent.Died(domid, d.spec.name(), "poweroff");
            }
        }
        if (event != null) {
            emit(event);
        }
    }

    @Override
    public void destroy(int domid) {
        HypervisorEvent event;
        synchronized (this) {
            var d = get(domid);
            maybeFail("destroy", d.spec.name());
            domains.remove(domid);
            event = new HypervisorEvent.Died(domid, d.spec.name(), "destroyed");
        }
        emit(event);
    }

    @Override
    public synchronized List<DomainStatus> list() {
        return domains.values().stream().map(this::infoOf).toList();
    }

    @Override
    public synchronized Optional<DomainStatus> info(int domid) {
        return Optional.ofNullable(domains.get(domid)).map(this::infoOf);
    }

    private DomainStatus infoOf(Domain d) {
        return new DomainStatus(d.domid, d.spec.name(), d.state, d.currentKib, d.cpuTimeNs);
    }

    @Override
    public void subscribe(Consumer<HypervisorEvent> listener) {
        listeners.add(listener);
    }

    private void emit(HypervisorEvent e) {
        listeners.forEach(l -> l.accept(e));
    }

    @Override
    public void close() {
        listeners.clear();
    }
}
