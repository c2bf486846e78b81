package compart.core.memory;

import java.util.OptionalLong;

/**
 * One domain as the balancing sees it, in bytes. Immutable.
 *
 * @param domid      its domain id (0 is dom0, whose preferred size gets {@link MemorySettings#dom0MemBoost()})
 * @param used       what the guest last reported using (parsed by {@link MeminfoReport}); empty when it has not
 *                   reported, which leaves it out of balancing
 * @param max        the most it may have (its {@code maxmem}; the host's assignable memory for dom0)
 * @param actual     what it has or may take at any time: the larger of its current size and its last target
 * @param noProgress it did not give memory back when asked: left out until it does
 */
public record DomainMemory(int domid, OptionalLong used, long max, long actual, boolean noProgress) {
    /** Checks the figures. */
    public DomainMemory {
        if (domid < 0 || max < 0 || actual < 0 || used.isPresent() && used.getAsLong() < 0) {
            throw new IllegalArgumentException("negative figure in domain " + domid + ": used " + used + ", max "
                    + max + ", actual " + actual);
        }
    }

    /** @return whether it takes part in balancing: it reported and did not get stuck */
    public boolean balanced() {
        return used.isPresent() && !noProgress;
    }
}
