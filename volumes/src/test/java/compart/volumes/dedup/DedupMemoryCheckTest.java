package compart.volumes.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import org.junit.jupiter.api.Test;

/**
 * A pool whose block tables would not fit in the heap is refused before the run starts, naming a block size that
 * fits (in the Xen scenario, 4 KiB blocks over 2 and 10 GiB sparse volumes ended in OutOfMemoryError midway).
 */
class DedupMemoryCheckTest {
    static final long GIB = 1L << 30;

    static Deduplicator at(int blockSize) {
        return new Deduplicator(new DedupOptions(blockSize, null, 2), Deduplicator.Progress.NONE);
    }

    @Test
    void tablesBeyondHalfTheHeap_areRefused_namingABlockSizeThatFits() {
        long blocks = 30 * GIB / 4096; // e.g. a 10 GiB volatile and ten 2 GiB privates

        var e = catchThrowableOfType(CompartException.class,
                () -> at(4096).checkMemory(blocks, 384L << 20));

        assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_VALUE);
        assertThat(e.getMessage()).contains("needs about 480 MiB of memory, and this run may use 384 MiB")
                .contains("sparse files count whole").contains("COMPART_JAVA_OPTS=-Xmx");
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
