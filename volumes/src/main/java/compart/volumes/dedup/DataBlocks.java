package compart.volumes.dedup;

import compart.xl.linux.Extent;
import java.util.Arrays;
import java.util.List;

/**
 * The blocks of one file that hold data, as sorted runs of consecutive block numbers: a hole costs nothing, so
 * a sparse 10 GiB image holding 50 MiB costs what 50 MiB cost. The data blocks are numbered 0..{@link #count()}-1
 * in file order; these numbers ("slots") index a file's per-block tables (hashes, places), and {@link #block}
 * and {@link #slot} convert between the two by binary search over the runs.
 *
 * <p>Immutable.
 */
final class DataBlocks {
    static final DataBlocks NONE = new DataBlocks(new long[0], new int[] {0});

    /** per run: its first block number */
    private final long[] firstBlock;
    /** per run: its first slot; one more element, the count */
    private final int[] firstSlot;

    private DataBlocks(long[] firstBlock, int[] firstSlot) {
        this.firstBlock = firstBlock;
        this.firstSlot = firstSlot;
    }

    /**
     * The whole blocks (of {@code blockSize} bytes, the first {@code blocks} of the file) holding any data
     * according to FIEMAP's {@code extents} (sorted by file offset, as FIEMAP returns them).
     *
     * @throws IllegalArgumentException when the file has more data blocks than an int counts
     */
    static DataBlocks of(List<Extent> extents, int blockSize, long blocks) {
        Builder b = new Builder();
        for (Extent e : extents) {
            if (e.logical() >= blocks * blockSize) {
                break;
            }
            b.add(e.logical() / blockSize, Math.min(blocks, (e.end() - 1) / blockSize + 1));
        }
        return b.build();
    }

    /**
     * Decodes {@link #encode()}'s runs.
     *
     * @return null when {@code runs} is not a valid encoding
     */
    static DataBlocks decode(long[] runs, int offset) {
        if (runs == null || (runs.length - offset) % 2 != 0) {
            return null;
        }
        Builder b = new Builder();
        long last = -1;
        for (int i = offset; i < runs.length; i += 2) {
            if (runs[i] <= last || runs[i + 1] <= 0 || runs[i] + runs[i + 1] < runs[i]) {
                return null;
            }
            b.add(runs[i], runs[i] + runs[i + 1]);
            last = runs[i] + runs[i + 1];
        }
        return b.build();
    }

    /** @return {@code header} followed by (first block, length) of every run */
    long[] encode(long... header) {
        long[] out = Arrays.copyOf(header, header.length + 2 * runs());
        for (int r = 0; r < runs(); r++) {
            out[header.length + 2 * r] = firstBlock[r];
            out[header.length + 2 * r + 1] = firstSlot[r + 1] - firstSlot[r];
        }
        return out;
    }

    /** @return the number of data blocks */
    int count() {
        return firstSlot[firstBlock.length];
    }

    int runs() {
        return firstBlock.length;
    }

    /** @return the block number of data block {@code slot} */
    long block(int slot) {
        int r = runOfSlot(slot);
        return firstBlock[r] + (slot - firstSlot[r]);
    }

    /** @return the slot of block number {@code block}, or -1 when it holds no data */
    int slot(long block) {
        int r = Arrays.binarySearch(firstBlock, block);
        if (r < 0) {
            r = -r - 2;
            if (r < 0) {
                return -1;
            }
        }
        long offset = block - firstBlock[r];
        return offset < firstSlot[r + 1] - firstSlot[r] ? firstSlot[r] + (int) offset : -1;
    }

    /** @return the slot just past the run of consecutive blocks that {@code slot} belongs to */
    int runEnd(int slot) {
        return firstSlot[runOfSlot(slot) + 1];
    }

    private int runOfSlot(int slot) {
        if (slot < 0 || slot >= count()) {
            throw new IndexOutOfBoundsException("slot " + slot + " of " + count());
        }
        int r = Arrays.binarySearch(firstSlot, 0, firstBlock.length, slot);
        return r >= 0 ? r : -r - 2;
    }

    /** Receives the blocks two files' data have in common. */
    @FunctionalInterface
    interface Common {
        void common(int slotHere, int slotThere, int length);
    }

    /** Passes to {@code out} every range of block numbers holding data both here and in {@code other}. */
    void common(DataBlocks other, Common out) {
        int i = 0;
        int j = 0;
        while (i < runs() && j < other.runs()) {
            long aEnd = firstBlock[i] + (firstSlot[i + 1] - firstSlot[i]);
            long bEnd = other.firstBlock[j] + (other.firstSlot[j + 1] - other.firstSlot[j]);
            long from = Math.max(firstBlock[i], other.firstBlock[j]);
            long to = Math.min(aEnd, bEnd);
            if (from < to) {
                out.common(firstSlot[i] + (int) (from - firstBlock[i]),
                        other.firstSlot[j] + (int) (from - other.firstBlock[j]), (int) (to - from));
            }
            if (aEnd <= bEnd) {
                i++;
            } else {
                j++;
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DataBlocks d && Arrays.equals(firstBlock, d.firstBlock) && Arrays.equals(firstSlot, d.firstSlot);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(firstBlock) * 31 + Arrays.hashCode(firstSlot);
    }

    @Override
    public String toString() {
        return "DataBlocks" + Arrays.toString(encode());
    }

    /** Collects increasing block ranges, merging touching and overlapping ones. */
    private static final class Builder {
        private long[] first = new long[4];
        private long[] end = new long[4];
        private int n;

        /** Adds blocks [from, to); {@code from} is at least the previous range's start. */
        void add(long from, long to) {
            if (n > 0 && from <= end[n - 1]) {
                end[n - 1] = Math.max(end[n - 1], to);
                return;
            }
            if (from >= to) {
                return;
            }
            if (n == first.length) {
                first = Arrays.copyOf(first, 2 * n);
                end = Arrays.copyOf(end, 2 * n);
            }
            first[n] = from;
            end[n] = to;
            n++;
        }

        DataBlocks build() {
            int[] slots = new int[n + 1];
            long total = 0;
            for (int r = 0; r < n; r++) {
                slots[r] = (int) total;
                total += end[r] - first[r];
                if (total > Integer.MAX_VALUE - 8) {
                    throw new IllegalArgumentException("more than 2^31 data blocks in one file");
                }
            }
            slots[n] = (int) total;
            return new DataBlocks(Arrays.copyOf(first, n), slots);
        }
    }
}
