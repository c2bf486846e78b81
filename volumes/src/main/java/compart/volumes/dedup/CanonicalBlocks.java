package compart.volumes.dedup;

/**
 * For each block hash, the location of its canonical block and that block's rank (see {@link Deduplicator}'s
 * merger): an open-addressing table over three parallel arrays, sized once for the most hashes a run can have,
 * about 36 bytes per hash where a {@code HashMap} of boxed keys and values took some 100.
 *
 * <p>The hash (0, 0) is never stored (it marks a free entry; block hashes of (0, 0) are made (0, 1)). Not thread
 * safe.
 */
final class CanonicalBlocks {
    private final long[] hi;
    private final long[] lo;
    private final long[] location;
    private final byte[] rank;

    /** @param capacity the most hashes it will hold */
    CanonicalBlocks(long capacity) {
        long n = Math.max(16, capacity + capacity * 3 / 7 + 1); // load at most 0.7
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("too many blocks for one run: " + capacity);
        }
        hi = new long[(int) n];
        lo = new long[(int) n];
        location = new long[(int) n];
        rank = new byte[(int) n];
    }

    /** @return the entry of the hash, or of the free place where it would go (then {@link #absent} is true) */
    private int find(long h, long l) {
        int n = hi.length;
        int i = (int) Math.floorMod(h ^ Long.rotateLeft(l, 32), (long) n);
        while (hi[i] != h || lo[i] != l) {
            if (hi[i] == 0 && lo[i] == 0) {
                return i;
            }
            i = i + 1 == n ? 0 : i + 1;
        }
        return i;
    }

    private boolean absent(int i) {
        return hi[i] == 0 && lo[i] == 0;
    }

    private void set(int i, long h, long l, long loc, int r) {
        hi[i] = h;
        lo[i] = l;
        location[i] = loc;
        rank[i] = (byte) r;
    }

    /** Makes {@code loc} the hash's canonical block if the hash has none yet or one of a lower rank. */
    void offer(long h, long l, long loc, int r) {
        int i = find(h, l);
        if (absent(i) || r > rank[i]) {
            set(i, h, l, loc, r);
        }
    }

    /** @return the hash's canonical block, after making it {@code loc} (rank 0) if it had none */
    long putIfAbsent(long h, long l, long loc) {
        int i = find(h, l);
        if (absent(i)) {
            set(i, h, l, loc, 0);
        }
        return location[i];
    }

    /** Makes {@code loc} the hash's canonical block, rank 0. */
    void put(long h, long l, long loc) {
        set(find(h, l), h, l, loc, 0);
    }
}
