package compart.volumes.dedup;

import compart.xl.linux.Extent;
import java.util.Arrays;
import java.util.List;

/**
 * Where each data block of a file is stored, from FIEMAP, one {@code long} per data block ({@link DataBlocks}):
 * the device byte address of the block's start with bit 0 set when the extent is shared (addresses are at least
 * 512-aligned, so bit 0 is free), or {@link #NONE} for a block that is not wholly inside one extent with a known
 * location.
 */
final class BlockLayout {
    static final long NONE = -1;

    private BlockLayout() {}

    /** @return the place of every data block of {@code blocks}, indexed by slot */
    static long[] places(List<Extent> extents, int blockSize, DataBlocks blocks) {
        long[] phys = new long[blocks.count()];
        Arrays.fill(phys, NONE);
        for (Extent e : extents) {
            if (e.unknownLocation()) {
                continue;
            }
            long whole = (e.logical() + blockSize - 1) / blockSize;
            int s = blocks.slot(whole);
            for (long b = whole; s >= 0 && s < phys.length && (b + 1) * blockSize <= e.end(); b++, s++) {
                phys[s] = e.physical() + (b * blockSize - e.logical()) | (e.shared() ? 1 : 0);
            }
        }
        return phys;
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
