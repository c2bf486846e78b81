package compart.core.memory;

/**
 * Memory a start holds from the {@link MemoryBroker} until its domain exists: no other start counts these pages,
 * and no rebalance gives them away. {@link #handOver} once the domain is created (the domain now holds the pages),
 * or {@link #close} when the start fails before. Used by one start; both methods are idempotent together.
 */
public final class MemoryReservation implements AutoCloseable {
    private final MemoryBroker broker;
    private final String qube;
    private final long bytes;
    private boolean ended;

    MemoryReservation(MemoryBroker broker, String qube, long bytes) {
        this.broker = broker;
        this.qube = qube;
        this.bytes = bytes;
    }

    /** @return the bytes held */
    public long bytes() {
        return bytes;
    }

    /** @return the qube it is for */
    public String qube() {
        return qube;
    }

    /**
     * The domain now exists: the broker follows it (balanced or at a fixed size) and the pages are released.
     *
     * @param domid    the new domain
     * @param maxBytes its maximum memory ({@code maxmem}, or its memory when not balanced)
     * @param balanced whether it reports through {@code meminfo-writer} and may be balanced
     */
    public synchronized void handOver(int domid, long maxBytes, boolean balanced) {
        if (!ended) {
            try {
                broker.track(domid, qube, maxBytes, balanced);
            } finally {
                ended = true;
                broker.release(this);
            }
        }
    }

    /** Gives the pages back unused (the start failed before its domain existed); nothing once handed over. */
    @Override
    public synchronized void close() {
        if (!ended) {
            ended = true;
            broker.release(this);
        }
    }
}
