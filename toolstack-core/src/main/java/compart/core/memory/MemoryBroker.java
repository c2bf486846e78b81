package compart.core.memory;

import compart.core.hypervisor.DomainStatus;
import compart.core.hypervisor.Hypervisor;
import compart.core.hypervisor.HypervisorEvent;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.errors.Refusal;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * compartd's memory broker, as Qubes' qmemman: it shares the host's memory among the running qubes that report
 * their use (their {@code meminfo-writer} writes {@code memory/meminfo}, watched through the {@link Hypervisor}),
 * setting each one's target within its {@code maxmem} with {@link Balancing}; and it hands out memory to starts.
 *
 * <p>One lock ({@code lock}) covers every decision on free memory: a rebalance, and a start's
 * {@link #reserve reservation}, which counts the free pages less those already promised to other starts, asks
 * the balanced qubes to give memory back when that is not enough (qmemman's balloon) and fails fast when they
 * cannot; the reservation holds its pages until the domain exists ({@link MemoryReservation#handOver}), so no two
 * starts ever count the same free pages and a rebalance never gives them away.
 *
 * <p>Qubes that do not report (no {@code meminfo-writer}: {@code maxmem} 0, PCI devices; a qube that never wrote
 * its node) keep their start size. A donor that does not give memory back when asked is left out (qmemman's
 * {@code no_progress}) until it does. dom0 is not ballooned: compartd leaves its memory alone, so it keeps all of
 * it. A margin of 50 MiB is kept free in Xen, as qmemman does.
 *
 * <p>Thread safe. Reports arrive on the hypervisor's watch thread and only record the figure; the rebalance runs
 * on the broker's own platform thread, at most one pending at a time.
 */
public final class MemoryBroker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MemoryBroker.class);
    private static final long MIB = 1024 * 1024;
    /** Kept free in Xen by balancing (qmemman's XEN_FREE_MEM_LEFT). */
    static final long FREE_MEM_LEFT = 50 * MIB;
    /** Left free beyond a reservation (qmemman's XEN_FREE_MEM_MIN). */
    static final long FREE_MEM_MIN = 25 * MIB;
    /** Xen's per-page structures: the share of physical memory that can be assigned (qmemman's figure). */
    private static final double ASSIGNABLE = 1.0 / 1.00781;
    /** A rebalance moving less than this in all is not worth doing (qmemman's MIN_TOTAL_MEMORY_TRANSFER). */
    private static final long MIN_TOTAL_TRANSFER = 150 * MIB;
    /** A qube below its preference is given this much more at least (qmemman's MIN_MEM_CHANGE_WHEN_UNDER_PREF). */
    private static final long MIN_CHANGE_UNDER_PREF = 15 * MIB;
    /** Ballooning rounds within which the donors must have freed {@link #CHECK_DELTA} (qmemman: 3 s of 0.1 s). */
    private static final int CHECK_ROUNDS = 30;
    /** What donors must free per {@link #CHECK_ROUNDS} rounds, or the reservation fails (qmemman: 100 MB/s). */
    private static final long CHECK_DELTA = 300 * MIB;
    /** Tries while waiting for donors before giving memory to a qube in a rebalance (qmemman's 5). */
    private static final int GIVE_TRIES = 5;

    private final Hypervisor hypervisor;
    private final Balancing balancing;
    private final Duration balloonDelay;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}, except {@link Tracked#reported}, written by the watch thread. */
    private final Map<Integer, Tracked> tracked = new LinkedHashMap<>();
    /** Guarded by {@link #lock}: bytes promised to starts whose domain does not exist yet. */
    private long reserved;
    private final ExecutorService worker;
    private final AtomicBoolean rebalancePending = new AtomicBoolean();
    private volatile long available;
    private volatile boolean closed;
    private volatile Path availFile;

    /** One qube whose memory the broker follows. */
    private static final class Tracked {
        final int domid;
        final String name;
        final long max;
        final boolean balanced;
        /** The last report, parsed: bytes, -1 for none or unusable (written by the watch thread). */
        volatile long reported = -1;
        long current;
        long lastTarget;
        boolean noProgress;
        Runnable unwatch = () -> { };

        Tracked(int domid, String name, long max, boolean balanced, long current) {
            this.domid = domid;
            this.name = name;
            this.max = max;
            this.balanced = balanced;
            this.current = current;
        }

        long actual() {
            return Math.max(current, lastTarget);
        }

        DomainMemory view() {
            var used = balanced && reported >= 0 ? OptionalLong.of(reported) : OptionalLong.empty();
            return new DomainMemory(domid, used, max, actual(), noProgress);
        }
    }

    /**
     * @param hypervisor the backend: the host's free memory, the domains' sizes, their reports and targets
     * @param settings   the balancing's settings
     */
    public MemoryBroker(Hypervisor hypervisor, MemorySettings settings) {
        this(hypervisor, settings, Duration.ofMillis(100));
    }

    /**
     * @param balloonDelay the wait between ballooning rounds (qmemman's 0.1 s); zero for a hypervisor whose
     *                     guests obey at once
     */
    MemoryBroker(Hypervisor hypervisor, MemorySettings settings, Duration balloonDelay) {
        this.hypervisor = hypervisor;
        this.balancing = new Balancing(settings);
        this.balloonDelay = balloonDelay;
        this.worker = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon().name("memory-balance")
                .unstarted(r));
        hypervisor.subscribe(e -> {
            if (e instanceof HypervisorEvent.Died d && !closed) {
                worker.execute(() -> forget(d.domid()));
            }
        });
    }

    /**
     * Reserves memory for a domain about to be created: counts the free memory less what other starts hold, asks
     * the balanced qubes to give back what is missing and waits while they do, as qmemman's balloon.
     *
     * @param qube  the qube to start (for messages)
     * @param bytes what its domain needs (its memory and the hypervisor's overhead)
     * @return the reservation: {@link MemoryReservation#handOver hand it over} once the domain exists, or close it
     * @throws CompartException the refusal NOT_ENOUGH_MEMORY (Qubes' {@code QubesMemoryError}) when the memory
     *                          cannot be had, with the figures
     */
    public MemoryReservation reserve(String qube, long bytes) {
        lock.lock();
        try {
            tracked.values().forEach(t -> t.noProgress = false);
            long[] ring = new long[CHECK_ROUNDS];
            Map<Integer, Long> asked = Map.of();
            for (int round = 0; ; round++) {
                refresh();
                long free = free();
                if (free >= bytes + FREE_MEM_MIN) {
                    reserved += bytes;
                    LOG.info("reserved {} MiB for {} ({} MiB free before, {} MiB reserved in all)", bytes / MIB, qube,
                            free / MIB, reserved / MIB);
                    return new MemoryReservation(this, qube, bytes);
                }
                int slot = round % CHECK_ROUNDS;
                if (round >= CHECK_ROUNDS && free < ring[slot] + CHECK_DELTA) {
                    throw refusal(qube, bytes, free, "the other qubes give memory back too slowly");
                }
                ring[slot] = free;
                for (var e : asked.entrySet()) {
                    var t = tracked.get(e.getKey());
                    if (t != null && t.actual() == e.getValue()) {
                        t.noProgress = true;
                        LOG.warn("qube {} (domain {}) did not give memory back: stuck at {} MiB", t.name, t.domid,
                                t.actual() / MIB);
                    }
                }
                var requests = balancing.balloon(bytes + FREE_MEM_LEFT - free, views());
                if (requests.isEmpty()) {
                    throw refusal(qube, bytes, free, round == 0 ? "the other qubes have none to spare"
                            : "the other qubes did not give enough back");
                }
                var before = new HashMap<Integer, Long>();
                for (var r : requests) {
                    var t = tracked.get(r.domid());
                    before.put(r.domid(), t.actual());
                    memSet(t, r.bytes());
                }
                asked = before;
                pause();
            }
        } finally {
            lock.unlock();
        }
    }

    private CompartException refusal(String qube, long bytes, long free, String why) {
        return Refusal.NOT_ENOUGH_MEMORY.exception("Not enough memory to start domain '%s': needs %d MiB, %d MiB "
                + "free (%d MiB promised to other starts), %s", qube, ceilMib(bytes), Math.max(0, free) / MIB,
                reserved / MIB, why);
    }

    private static long ceilMib(long bytes) {
        return (bytes + MIB - 1) / MIB;
    }

    /** Ends a reservation: its pages are free again for other starts (the domain was not made, or now holds them). */
    void release(MemoryReservation r) {
        lock.lock();
        try {
            reserved -= r.bytes();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Follows a running domain found at compartd's start (a qube started before a restart): as a new one.
     *
     * @param maxBytes its maximum memory
     * @param balanced whether it reports through {@code meminfo-writer}
     */
    public void follow(int domid, String name, long maxBytes, boolean balanced) {
        track(domid, name, maxBytes, balanced);
    }

    /**
     * Writes {@link #availableMemory} to {@code file} after each rebalance (as qmemman writes
     * {@code qmemman-avail-mem}): atomically, mode 0644; a failure to write is logged.
     */
    public void writeAvailableTo(Path file) {
        availFile = file;
    }

    private void writeAvailable() {
        var file = availFile;
        if (file == null) {
            return;
        }
        try {
            var parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            var tmp = parent.resolve(file.getFileName() + ".tmp");
            Files.writeString(tmp, Long.toString(available));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.warn("cannot write the available memory figure to {}: {}", file, e.toString());
        }
    }

    /**
     * Follows a domain just created: a balanced one is watched for reports and balanced, another kept at its size.
     * Called by {@link MemoryReservation#handOver}, before the reservation is released.
     */
    void track(int domid, String name, long maxBytes, boolean balanced) {
        lock.lock();
        try {
            long current = hypervisor.info(domid).map(DomainStatus::memoryKib).orElse(0L) * 1024;
            boolean watched = false;
            Runnable unwatch = () -> { };
            Tracked t = new Tracked(domid, name, maxBytes, balanced, current);
            if (balanced) {
                try {
                    unwatch = hypervisor.watchGuestNode(domid, "memory/meminfo", v -> onReport(t, v));
                    watched = true;
                } catch (CompartException e) {
                    LOG.warn("qube {} (domain {}): cannot watch its memory/meminfo ({}): its memory stays fixed", name,
                            domid, e.getMessage());
                }
            }
            t.unwatch = unwatch;
            tracked.put(domid, t);
            if (watched) {
                LOG.info("qube {} (domain {}): memory balanced up to {} MiB on its meminfo-writer's reports", name,
                        domid, maxBytes / MIB);
            } else {
                LOG.info("qube {} (domain {}): memory fixed at {} MiB (no balancing)", name, domid, current / MIB);
            }
        } finally {
            lock.unlock();
        }
        requestRebalance(); // as qmemman when the domain list changes
    }

    /** On the watch thread: records a report and asks for a rebalance. */
    private void onReport(Tracked t, String untrustedValue) {
        if (untrustedValue.isEmpty()) {
            return; // the node as dom0 made it, or the watch's first firing before any report
        }
        var used = MeminfoReport.parse(untrustedValue);
        if (used.isEmpty()) {
            LOG.warn("qube {} (domain {}) reported an unusable memory figure ({} characters): left at its size until "
                    + "it reports a plain figure", t.name, t.domid, untrustedValue.length());
        }
        t.reported = used.orElse(-1);
        requestRebalance();
    }

    /** Runs a rebalance on the broker's thread; a request while one is pending is folded into it. */
    void requestRebalance() {
        if (!closed && rebalancePending.compareAndSet(false, true)) {
            worker.execute(() -> {
                rebalancePending.set(false);
                try {
                    rebalance();
                } catch (RuntimeException e) {
                    LOG.error("memory rebalance failed", e);
                }
            });
        }
    }

    /** Forgets a dead domain. */
    private void forget(int domid) {
        lock.lock();
        try {
            var t = tracked.remove(domid);
            if (t != null) {
                t.unwatch.run();
            }
        } finally {
            lock.unlock();
        }
        requestRebalance();
    }

    /**
     * Shares the memory among the balanced qubes now (qmemman's {@code do_balance}): takes from donors first, and
     * gives to a qube only what Xen then has free, waiting a little for donors that are slow and leaving out a donor
     * that does not move.
     */
    void rebalance() {
        lock.lock();
        try {
            refresh();
            clearOutdatedMarkers();
            long free = free();
            var views = views();
            var requests = balancing.balance(free - FREE_MEM_LEFT, views);
            if (significant(requests, free)) {
                apply(requests);
            }
            refresh();
            available = balancing.availableMemory(free() - FREE_MEM_LEFT, views());
            writeAvailable();
        } finally {
            lock.unlock();
        }
    }

    private void apply(List<MemoryTarget> requests) {
        var before = new HashMap<Integer, Long>();
        tracked.values().forEach(t -> before.put(t.domid, t.actual()));
        for (var r : requests) {
            var t = tracked.get(r.domid());
            if (t == null) {
                continue; // died meanwhile
            }
            refresh(); // what the donors gave so far
            int tries = GIVE_TRIES;
            while (free() - (r.bytes() - t.actual()) < 0.9 * FREE_MEM_LEFT) {
                pause();
                refresh();
                if (--tries <= 0) {
                    markStuck(r.domid(), requests, before);
                    long possible = free() + t.actual() - FREE_MEM_LEFT;
                    if (possible > 0) {
                        memSet(t, possible);
                    }
                    return;
                }
            }
            memSet(t, r.bytes());
        }
    }

    /** The donors asked before {@code stuckDomid} that did not move are left out (qmemman's debug_stuck_balance). */
    private void markStuck(int stuckDomid, List<MemoryTarget> requests, Map<Integer, Long> before) {
        for (var r : requests) {
            if (r.domid() == stuckDomid) {
                return;
            }
            var t = tracked.get(r.domid());
            if (t != null && t.actual() > t.lastTarget + FREE_MEM_LEFT / 4 && Long.valueOf(t.actual()).equals(before.get(t.domid))) {
                t.noProgress = true;
                LOG.warn("qube {} (domain {}) did not give memory back (holds {} MiB, asked for {} MiB): left out of "
                        + "balancing until it does", t.name, t.domid, t.actual() / MIB, r.bytes() / MIB);
            }
        }
    }

    /** qmemman's is_balance_req_significant: small moves are not worth doing. */
    private boolean significant(List<MemoryTarget> requests, long free) {
        if (FREE_MEM_LEFT - free > MIN_CHANGE_UNDER_PREF) {
            return true;
        }
        long transfer = 0;
        for (var r : requests) {
            var t = tracked.get(r.domid());
            long change = r.bytes() - t.lastTarget;
            transfer += Math.abs(change);
            if (t.lastTarget > 0 && t.lastTarget < balancing.prefMem(t.view()) && change > MIN_CHANGE_UNDER_PREF) {
                return true;
            }
        }
        return transfer + Math.abs(free - FREE_MEM_LEFT) > MIN_TOTAL_TRANSFER;
    }

    /** A donor that gave back, or that now needs more than it has, is balanced again. */
    private void clearOutdatedMarkers() {
        for (var t : tracked.values()) {
            var v = t.view();
            if (v.used().isPresent()
                    && (t.actual() <= t.lastTarget + FREE_MEM_LEFT / 2 || t.actual() < balancing.prefMem(v))) {
                t.noProgress = false;
            }
        }
    }

    private void memSet(Tracked t, long bytes) {
        long target = Math.min(Math.max(bytes, MIB), t.max);
        t.lastTarget = target;
        try {
            hypervisor.setMemoryTarget(t.domid, target / 1024);
        } catch (CompartException e) {
            LOG.info("memory target of {} (domain {}) not set: {}", t.name, t.domid, e.getMessage());
        }
    }

    /** Re-reads each followed domain's size; a domain gone is forgotten. */
    private void refresh() {
        var sizes = new HashMap<Integer, Long>();
        for (var d : hypervisor.list()) {
            sizes.put(d.domid(), d.memoryKib() * 1024);
        }
        var gone = new ArrayList<Integer>();
        for (var t : tracked.values()) {
            var size = sizes.get(t.domid);
            if (size == null) {
                gone.add(t.domid);
            } else {
                t.current = size;
            }
        }
        gone.forEach(id -> tracked.remove(id).unwatch.run());
    }

    /** @return Xen's assignable free memory less what followed domains may still take and what starts hold */
    private long free() {
        long xenFree = (long) (hypervisor.hostInfo().freeMemoryMib() * MIB * ASSIGNABLE);
        long promised = 0;
        for (var t : tracked.values()) {
            promised += Math.max(0, t.lastTarget - t.current);
        }
        return xenFree - promised - reserved;
    }

    private List<DomainMemory> views() {
        return tracked.values().stream().map(Tracked::view).toList();
    }

    private void pause() {
        if (balloonDelay.isZero()) {
            return;
        }
        try {
            Thread.sleep(balloonDelay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompartException(ErrorKind.TIMEOUT, "interrupted while waiting for qubes to "
                    + "give memory back", e);
        }
    }

    /**
     * @return what balancing would leave free after the last rebalance, bytes (qmemman's {@code qmemman-avail-mem}
     *         figure; negative when memory is short)
     */
    public long availableMemory() {
        return available;
    }

    /**
     * @return {@link #availableMemory}'s figure computed now from the hypervisor's free memory, rather than at the
     *         last rebalance (for decisions between rebalances, such as how many disposables to preload)
     */
    public long availableMemoryNow() {
        lock.lock();
        try {
            refresh();
            return balancing.availableMemory(free() - FREE_MEM_LEFT, views());
        } finally {
            lock.unlock();
        }
    }

    /** @return the bytes promised to starts whose domain does not exist yet */
    public long reservedBytes() {
        lock.lock();
        try {
            return reserved;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the pending rebalance, if any, has run (for tests and the figures). */
    void settle() {
        try {
            worker.submit(() -> { }).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("memory broker did not settle", e);
        }
    }

    /** Stops balancing; the domains keep their current targets. */
    @Override
    public void close() {
        closed = true;
        worker.shutdown();
        lock.lock();
        try {
            tracked.values().forEach(t -> t.unwatch.run());
            tracked.clear();
        } finally {
            lock.unlock();
        }
    }
}
