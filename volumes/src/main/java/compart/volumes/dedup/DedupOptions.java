package compart.volumes.dedup;

import compart.errors.CompartException;
import java.nio.file.Path;

/**
 * How to deduplicate.
 *
 * @param blockSize the unit compared and shared, a power of two from 4 KiB to 16 MiB (default 128 KiB)
 * @param hashFile  where the block hashes are kept between runs (an H2 MVStore file), or null for none
 * @param threads   reading and hashing threads, each with one read in flight (default 2: on a virtual disk two
 *                  streams read about twice as fast as one, and hashing runs on both cores)
 * @param dryRun    only report: hash and plan as a real run does, count what it would merge, merge nothing and
 *                  leave the hash file as it was (a later real run must not take the planned merges as done)
 */
public record DedupOptions(int blockSize, Path hashFile, int threads, boolean dryRun) {
    /** The default block size, 128 KiB. */
    public static final int DEFAULT_BLOCK_SIZE = 128 * 1024;
    /** The default number of reading and hashing threads, 2. */
    public static final int DEFAULT_THREADS = 2;

    public DedupOptions {
        if (blockSize < 4096 || blockSize > (16 << 20) || Integer.bitCount(blockSize) != 1) {
            throw CompartException.invalidValue("dedup block size %d is not a power of two from 4 KiB to 16 MiB", blockSize);
        }
        if (threads < 1) {
            throw CompartException.invalidValue("dedup needs at least one thread, not %d", threads);
        }
    }

    /** Options of a run that merges. */
    public DedupOptions(int blockSize, Path hashFile, int threads) {
        this(blockSize, hashFile, threads, false);
    }

    /** @return the defaults, keeping hashes in {@code hashFile} (null: keep none) */
    public static DedupOptions defaults(Path hashFile) {
        return new DedupOptions(DEFAULT_BLOCK_SIZE, hashFile, DEFAULT_THREADS);
    }
}
