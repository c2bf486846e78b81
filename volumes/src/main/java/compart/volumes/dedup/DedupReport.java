package compart.volumes.dedup;

/**
 * What one deduplication run did.
 *
 * @param files              regular files considered
 * @param rereadFiles        files read and hashed in this run (new or changed since the hash store saw them)
 * @param scannedBytes       bytes read and hashed
 * @param dedupedBytes       bytes the kernel made share blocks in this run
 * @param skippedSharedBytes duplicate bytes that already shared their blocks (snapshots, clones, earlier runs)
 * @param seconds            wall-clock time of the run
 */
public record DedupReport(long files, long rereadFiles, long scannedBytes, long dedupedBytes,
                          long skippedSharedBytes, double seconds) {}
