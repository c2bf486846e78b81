package compart.core.hypervisor;

/**
 * The hypervisor's view of one live domain.
 *
 * @param domid      its domain id
 * @param name       its name
 * @param state      running, paused or shutting down
 * @param memoryKib  memory currently assigned
 * @param cpuTimeNs  CPU time used since start
 */
public record DomainStatus(int domid, String name, State state, long memoryKib, long cpuTimeNs) {
    /** The state of a live domain. */
    public enum State { RUNNING, PAUSED, SHUTTING_DOWN }
}
