package compart.core.hypervisor;

/**
 * The host as the hypervisor reports it.
 *
 * @param totalMemoryMib memory of the host
 * @param freeMemoryMib  memory not assigned to any domain
 * @param cpus           physical CPUs
 */
public record HostInfo(long totalMemoryMib, long freeMemoryMib, int cpus) {
}
