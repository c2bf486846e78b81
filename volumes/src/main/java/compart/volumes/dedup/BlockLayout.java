package compart.volumes.dedup;

import compart.xl.linux.Extent;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * Where each block of a file is stored, from FIEMAP, one {@code long} per block: the device byte address of
 * the block's start with bit 0 set when the extent is shared (addresses are at least 512-aligned, so bit 0 is
 * free), or {@link #NONE} for a hole or a block that is not wholly inside one extent with a known location.
 */
final class BlockLayout {
    static final long NONE = -1;

    private BlockLayout() {}

    /**
     * Fills {@code phys} (length = the file's whole blocks) and sets in {@code data} every block holding any
     * data (a block that is only a hole is left clear).
     */
    static void fill(List<Extent> extents, int blockSize, long[] phys, BitSet data) {
        Arrays.fill(phys, NONE);
        int n = phys.length;
        for (Extent e : extents) {
            if (e.logical() >= (long) n * blockSize) {
                break;
            }
            long first = e.logical() / blockSize;
            long last = Math.min(n - 1, (e.end() - 1) / blockSize);
            data.set((int) first, (int) last + 1);
            if (e.unknownLocation()) {
                continue;
            }
            long whole = (e.logical() + blockSize - 1) / blockSize;
            for (long b = whole; b <= last && (b + 1) * blockSize <= e.end(); b++) {
                long address = e.physical() + (b * blockSize - e.logical());
                phys[(int) b] = address | (e.shared() ? 1 : 0);
            }
        }
    }

    static boolean shared(long v) {
        return v >= 0 && (v & 1) != 0;
    }

    static long address(long v) {
        return v & ~1L;
    }

    /** @return whether both blocks are stored at the same known place, i.e. already share storage */
    static boolean samePlace(long a, long b) {
        return a >= 0 && b >= 0 && address(a) == address(b);
    }
}
