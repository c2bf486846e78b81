package compart.volumes.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import org.junit.jupiter.api.Test;

/**
 * A pool whose block tables would not fit in the heap is refused before the run starts, naming a block size that
 * fits. The tables follow the allocated data, not the apparent size (DedupSparseFilesTest runs the real thing in a
 * small heap); before, 4 KiB blocks over the Xen scenario's sparse 2 and 10 GiB volumes ended in OutOfMemoryError.
 */
class DedupMemoryCheckTest {
    static final long GIB = 1L << 30;

    static Deduplicator at(int blockSize) {
        return new Deduplicator(new DedupOptions(blockSize, null, 2), Deduplicator.Progress.NONE);
    }

    @Test
    void tablesBeyondHalfTheHeap_areRefused_namingABlockSizeThatFits() {
        long blocks = 30 * GIB / 4096; // 30 GiB of data, e.g. ten full 3 GiB images

        var e = catchThrowableOfType(CompartException.class,
                () -> at(4096).checkMemory(blocks, 384L << 20));

        assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_VALUE);
        assertThat(e.getMessage()).contains("deduplicating 7864320 blocks of 4096 bytes")
                .contains("needs about 720 MiB of memory, and this run may use 384 MiB")
                .contains("allocated data; holes do not count").contains("COMPART_JAVA_OPTS=-Xmx");
        long suggested = Long.parseLong(e.getMessage().replaceAll(".*--block-size \\((\\d+) would fit\\).*", "$1"));
        assertThat(Long.bitCount(suggested)).as("a power of two").isEqualTo(1);
        assertThatCode(() -> at((int) suggested).checkMemory(30 * GIB / suggested, 384L << 20))
                .as("the suggested size fits").doesNotThrowAnyException();
    }

    @Test
    void theDefaultBlockSize_onTheSamePool_fits() {
        assertThatCode(() -> at(DedupOptions.DEFAULT_BLOCK_SIZE).checkMemory(30 * GIB / DedupOptions.DEFAULT_BLOCK_SIZE,
                384L << 20)).doesNotThrowAnyException();
    }
}
