package compart.core.memory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Qubes' memory balancing as pure functions (the figures of qmemman's {@code algo.py}): each balanced domain
 * prefers its reported use times the cache margin (never below {@code vm-min-mem}, dom0 with its boost, never
 * above its maximum); free memory is shared in proportion to those preferences; when memory is short, donors go
 * down to their preference. All figures in bytes; domains are taken in the order given, and the targets come
 * donors first (memory is taken before it is given). Thread safe (stateless).
 */
public final class Balancing {
    /** A donor asked for less than this less has probably reached its preference already (qmemman's 10 MiB). */
    private static final long DONOR_MIN_SURPLUS = 10L * 1024 * 1024;
    /** What the balloon asks of donors beyond the request, for rounding (qmemman's REQ_SAFETY_NET_FACTOR). */
    private static final double SAFETY_NET = 1.05;
    /** Targets are cut by this to stay clear of rounding (qmemman's 0.999). */
    private static final double ROUNDING_MARGIN = 0.999;

    private final MemorySettings settings;

    /** @param settings the cache margin, the least preferred size and dom0's boost */
    public Balancing(MemorySettings settings) {
        this.settings = settings;
    }

    /**
     * @param d a domain that reported its use
     * @return the size it prefers
     */
    public long prefMem(DomainMemory d) {
        double wanted = d.used().orElseThrow() * settings.cacheMarginFactor();
        if (d.domid() == 0) {
            return (long) Math.min(wanted + settings.dom0MemBoost(), d.max());
        }
        return (long) Math.max(Math.min(wanted, d.max()), settings.vmMinMem());
    }

    /** @return what a reported domain lacks to reach its preference (negative: what it could give) */
    public long neededMem(DomainMemory d) {
        return prefMem(d) - d.actual();
    }

    /**
     * The donations that add {@code request} bytes to the free memory: every balanced domain above its
     * preference gives in proportion to its surplus (with a 5% safety net).
     *
     * @param request bytes wanted free
     * @param domains the domains
     * @return the donors' new targets, empty when all the surplus together is not enough
     */
    public List<MemoryTarget> balloon(long request, List<DomainMemory> domains) {
        var donors = new LinkedHashMap<DomainMemory, Long>();
        long available = 0;
        for (var d : domains) {
            if (!d.balanced()) {
                continue;
            }
            long need = neededMem(d);
            if (need < 0) {
                donors.put(d, -need);
                available -= need;
            }
        }
        if (available < request) {
            return List.of();
        }
        double scale = 1.0 * request / available;
        var targets = new ArrayList<MemoryTarget>();
        donors.forEach((d, surplus) -> targets.add(new MemoryTarget(d.domid(),
                (long) (d.actual() - surplus * scale * SAFETY_NET))));
        return targets;
    }

    /**
     * What balancing would leave free (qmemman's {@code total_available_mem}, the figure it writes to
     * {@code qmemman-avail-mem}): the free memory less what the domains below their preference lack, plus what
     * those above could give.
     *
     * @param free    the hypervisor's free memory less the margin kept free
     * @param domains the domains
     * @return the figure (negative when memory is short)
     */
    public long availableMemory(long free, List<DomainMemory> domains) {
        long needed = 0;
        for (var d : domains) {
            if (d.balanced()) {
                needed += neededMem(d);
            }
        }
        return free - needed;
    }

    /**
     * Shares the host's memory among the balanced domains.
     *
     * @param free    the hypervisor's free memory less the margin kept free
     * @param domains the domains (those not reporting or stuck get no target)
     * @return the new targets, donors first
     */
    public List<MemoryTarget> balance(long free, List<DomainMemory> domains) {
        long totalPref = 0;
        long totalPrefAcceptors = 0;
        var donors = new ArrayList<DomainMemory>();
        var acceptors = new ArrayList<DomainMemory>();
        for (var d : domains) {
            if (!d.balanced()) {
                continue;
            }
            long pref = prefMem(d);
            if (neededMem(d) < 0 || d.actual() >= d.max()) {
                donors.add(d);
            } else {
                acceptors.add(d);
                totalPrefAcceptors += pref;
            }
            totalPref += pref;
        }
        long available = availableMemory(free, domains);
        if (available > 0) {
            return whenEnough(domains, totalPref, available);
        }
        return whenShort(free, totalPrefAcceptors, donors, acceptors);
    }

    /** Enough for everyone's preference: each gets its preference and a share of the rest, up to its maximum. */
    List<MemoryTarget> whenEnough(List<DomainMemory> domains, long totalPref, long available) {
        var targets = new LinkedHashMap<DomainMemory, Long>();
        long left = 0; // what the maxima kept from their domains
        int acceptors = 0;
        for (var d : domains) {
            if (!d.balanced()) {
                continue;
            }
            long pref = prefMem(d);
            double share = 1.0 * pref / totalPref;
            long target = (long) (ROUNDING_MARGIN * (pref + share * available));
            if (target > d.max()) {
                left += target - d.max();
                target = d.max();
            } else {
                acceptors++;
            }
            targets.put(d, target);
        }
        while (left > 0 && acceptors > 0) {
            long nextLeft = 0;
            int nextAcceptors = acceptors;
            for (Map.Entry<DomainMemory, Long> e : targets.entrySet()) {
                var d = e.getKey();
                long target = e.getValue();
                if (target < d.max()) {
                    long bonus = (long) (ROUNDING_MARGIN * ((double) left / acceptors));
                    if (target + bonus >= d.max()) {
                        nextLeft += target + bonus - d.max();
                        target = d.max();
                        nextAcceptors--;
                    } else {
                        target += bonus;
                    }
                }
                e.setValue(target);
            }
            left = nextLeft;
            acceptors = nextAcceptors;
        }
        var givers = new ArrayList<MemoryTarget>();
        var takers = new ArrayList<MemoryTarget>();
        targets.forEach((d, t) -> (t < d.actual() ? givers : takers).add(new MemoryTarget(d.domid(), t)));
        givers.addAll(takers);
        return givers;
    }

    /** Short of memory: donors go down to their preference, and what is then free goes to the others. */
    private List<MemoryTarget> whenShort(long free, long totalPrefAcceptors, List<DomainMemory> donors,
                                         List<DomainMemory> acceptors) {
        var targets = new ArrayList<MemoryTarget>();
        long squeezed = free;
        for (var d : donors) {
            long surplus = -neededMem(d);
            if (surplus < DONOR_MIN_SURPLUS) {
                continue;
            }
            squeezed -= surplus;
            targets.add(new MemoryTarget(d.domid(), prefMem(d)));
        }
        if (squeezed < 0) {
            return targets;
        }
        for (var d : acceptors) {
            double share = 1.0 * prefMem(d) / totalPrefAcceptors;
            targets.add(new MemoryTarget(d.domid(), Math.min((long) (ROUNDING_MARGIN * (d.actual() + share * squeezed)),
                    d.max())));
        }
        return targets;
    }
}
