package compart.volumes.dedup;

import java.util.Arrays;

/**
 * For each shared device address, the first block location found there: an open-addressing table of two
 * {@code long} arrays, sized once, about 23 bytes per address where a {@code HashMap<Long, Long>} took some 80.
 * Addresses are not negative. Not thread safe.
 */
final class SharedPlaces {
    private static final long FREE = -1;
    private final long[] address;
    private final long[] location;

    /** @param capacity the most addresses it will hold */
    SharedPlaces(long capacity) {
        long n = Math.max(16, capacity + capacity * 3 / 7 + 1);
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("too many shared blocks for one run: " + capacity);
        }
        address = new long[(int) n];
        location = new long[(int) n];
        Arrays.fill(address, FREE);
    }

    /** @return the location already recorded at {@code addr}, or -1 after recording {@code loc} there */
    long putIfAbsent(long addr, long loc) {
        int n = address.length;
        int i = (int) Math.floorMod(addr * 0x9E3779B97F4A7C15L >>> 17, (long) n);
        while (address[i] != FREE) {
            if (address[i] == addr) {
                return location[i];
            }
            i = i + 1 == n ? 0 : i + 1;
        }
        address[i] = addr;
        location[i] = loc;
        return -1;
    }
}
