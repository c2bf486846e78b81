package compart.core.backup;

import compart.errors.CompartException;

/**
 * The cost of scrypt's key derivation as the {@code scrypt} tool's file header carries it: {@code N = 2^logN},
 * block size {@code r}, parallelism {@code p}.
 *
 * @param logN the base-2 logarithm of scrypt's N, 1..31
 * @param r the block size, at least 1
 * @param p the parallelism, at least 1
 */
public record ScryptCost(int logN, int r, int p) {

    /** What compartd writes unless told otherwise: 128 MiB and a fraction of a second per key. */
    public static final ScryptCost DEFAULT = new ScryptCost(17, 8, 1);

    /** Checks the ranges (the {@code scrypt} tool's own: {@code r * p < 2^30}). */
    public ScryptCost {
        if (logN < 1 || logN > 31) {
            throw CompartException.invalidValue("scrypt logN %d is outside 1..31", logN);
        }
        if (r < 1 || p < 1 || (long) r * p >= 1L << 30) {
            throw CompartException.invalidValue("scrypt r=%d p=%d: both must be positive and r*p below 2^30", r, p);
        }
    }

    /** The memory one derivation takes, in bytes ({@code 128 * r * N}, plus {@code 128 * r * p}). */
    public long memoryBytes() {
        return 128L * r * (1L << logN) + 128L * r * p;
    }
}
