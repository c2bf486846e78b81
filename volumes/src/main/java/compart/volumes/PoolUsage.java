package compart.volumes;

/**
 * Space in a pool, in bytes.
 *
 * @param size    the pool's capacity
 * @param used    bytes in use
 * @param free    bytes still free
 * @param reserve bytes the pool keeps free: operations that would eat into it are refused
 */
public record PoolUsage(long size, long used, long free, long reserve) {}
