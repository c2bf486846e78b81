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
     * Creates the empty xenstore node {@code /local/domain/<domid>/<relativePath>}, owned by the domain so that
     * it may write it (qubesd makes {@code memory/meminfo} this way for the qube's meminfo-writer).
     */
    void guestWritableNode(int domid, String relativePath);

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
