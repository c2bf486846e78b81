package compart.core.memory;

/**
 * A new memory target for one domain, in bytes.
 *
 * @param domid the domain
 * @param bytes its target
 */
public record MemoryTarget(int domid, long bytes) {
}
