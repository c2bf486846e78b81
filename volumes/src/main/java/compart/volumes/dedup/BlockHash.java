package compart.volumes.dedup;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A fast 128-bit non-cryptographic hash of a block (four xxHash64-style lanes, two avalanched outputs). It only
 * groups candidate blocks: FIDEDUPERANGE compares every byte before sharing, so a collision — accidental or
 * crafted by a qube — costs one refused merge, never data. Chosen over SHA-256 because the launchers run the
 * JIT's first tier only, where SHA-256 has no intrinsic and hashing, not the disk, would bound the run; for the
 * same reason the block is bulk-copied into a {@code long[]} first (about 5x faster than ByteBuffer reads there).
 */
final class BlockHash {
    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;

    private BlockHash() {}

    /**
     * Hashes {@code buf}'s remaining bytes (a multiple of 32) into {@code out[0..1]}.
     *
     * @param scratch at least remaining/8 longs: the block is first copied into it in one bulk copy, because
     *                array loads are several times faster than ByteBuffer reads in the JIT's first tier
     */
    static void hash(ByteBuffer buf, long[] scratch, long[] out) {
        int n = (buf.remaining() & ~31) >>> 3;
        buf.slice().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(scratch, 0, n);
        long h1 = P1 + P2;
        long h2 = P2;
        long h3 = 0;
        long h4 = -P1;
        for (int i = 0; i < n; i += 4) {
            h1 = Long.rotateLeft(h1 + scratch[i] * P2, 31) * P1;
            h2 = Long.rotateLeft(h2 + scratch[i + 1] * P2, 31) * P1;
            h3 = Long.rotateLeft(h3 + scratch[i + 2] * P2, 31) * P1;
            h4 = Long.rotateLeft(h4 + scratch[i + 3] * P2, 31) * P1;
        }
        long bytes = (long) n << 3;
        long hi = Long.rotateLeft(h1, 1) + Long.rotateLeft(h2, 7) + Long.rotateLeft(h3, 12) + Long.rotateLeft(h4, 18) + bytes;
        long lo = (h1 * P3) ^ Long.rotateLeft(h2 * P4, 17) ^ Long.rotateLeft(h3 * P1, 29) ^ Long.rotateLeft(h4 * P2, 41);
        out[0] = avalanche(hi);
        out[1] = avalanche(lo ^ hi);
    }

    private static long avalanche(long h) {
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        h ^= h >>> 32;
        return h;
    }
}
