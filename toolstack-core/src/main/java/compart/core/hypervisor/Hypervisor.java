package compart.core.hypervisor;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One hypervisor backend, at libxl's grain. Every failure is a {@link compart.errors.CompartException} of kind
 * HYPERVISOR (INVALID_STATE for a domain in the wrong state, NOT_FOUND for an unknown domid).
 *
 * <p>Implementations are thread safe; calls may block (callers use platform threads, never the accept loop).
 */
public interface Hypervisor extends AutoCloseable {
    /** @return the backend's name: {@code libxl} or {@code test} */
    String name();

    /** @return the host's memory and CPUs */
    HostInfo hostInfo();

    /**
     * Creates a domain, paused, with its devices.
     *
     * @param spec what to create
     * @return its domid
     */
    int createPaused(DomainSpec spec);

    /**
     * @param spec a domain to create (its disks do not matter)
     * @return the free memory creating it takes, KiB: its memory with the backend's per-domain overhead
     *         ({@code libxl_domain_need_memory})
     */
    long needMemoryKib(DomainSpec spec);

    /**
     * Creates the empty xenstore node {@code /local/domain/<domid>/<relativePath>}, owned by the domain so that
     * it may write it (qubesd makes {@code memory/meminfo} this way for the qube's meminfo-writer).
     */
    void guestWritableNode(int domid, String relativePath);

    /**
     * Watches the guest-writable node {@code /local/domain/<domid>/<relativePath>}: {@code untrustedValue} gets the
     * node's value as the guest wrote it (empty when the node is empty or gone) once at once and after each change,
     * on the backend's watch thread (it must not block). The value is untrusted input.
     *
     * @return run it to stop watching (the watch also ends with the domain)
     */
    Runnable watchGuestNode(int domid, String relativePath, Consumer<String> untrustedValue);

    /**
     * Sets a running domain's memory target, its balloon ({@code libxl_set_memory_target}, enforced: the domain
     * may not take more); a cooperative guest then gives back or takes pages until it reaches it.
     *
     * @param targetKib the target, positive and not above the domain's maximum memory
     */
    void setMemoryTarget(int domid, long targetKib);

    /** Lets a paused domain run. */
    void unpause(int domid);

    /** Pauses a running domain. */
    void pause(int domid);

    /** Asks the guest to shut down; a {@link HypervisorEvent.Died} follows when it has. */
    void shutdown(int domid);

    /** Destroys the domain at once; a {@link HypervisorEvent.Died} follows. */
    void destroy(int domid);

    /** @return the live domains except dom0 */
    List<DomainStatus> list();

    /** @return one live domain, if it exists */
    Optional<DomainStatus> info(int domid);

    /** Registers a listener for domain events (called on the hypervisor's event thread; must not block). */
    void subscribe(Consumer<HypervisorEvent> listener);

    @Override
    void close();
}
