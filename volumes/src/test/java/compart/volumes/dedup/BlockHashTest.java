package compart.volumes.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class BlockHashTest {
    private static final int BS = 131072;

    private static long[] hash(ByteBuffer buf) {
        long[] out = new long[2];
        BlockHash.hash(buf, new long[BS / 8], out);
        return out;
    }

    private static ByteBuffer block(long seed, boolean direct) {
        byte[] b = new byte[BS];
        new Random(seed).nextBytes(b);
        ByteBuffer buf = direct ? ByteBuffer.allocateDirect(BS) : ByteBuffer.allocate(BS);
        return buf.put(b).flip();
    }

    @Test
    void hash_isTheOneEarlierVersionsStored_soExistingHashFilesStayValid() {
        // the value the first version (ByteBuffer reads, commit 67592b2) gave for this block
        long[] h = hash(block(1, true));
        assertThat(String.format("%016x%016x", h[0], h[1])).isEqualTo("b1c2711b2a7b38f201b63aa85e75c7d6");
        assertThat(hash(block(1, false))).as("heap buffer").containsExactly(h);
    }

    @Test
    void theSameBytesAtAnotherPlaceOfABuffer_hashTheSame() {
        ByteBuffer big = ByteBuffer.allocateDirect(3 * BS);
        ByteBuffer one = block(2, false);
        big.position(BS).put(one.duplicate()).position(BS).limit(2 * BS);
        assertThat(hash(big)).containsExactly(hash(one));
    }

    @Property(tries = 50)
    void changingAnyByte_changesTheHash(@ForAll @IntRange(min = 0, max = BS - 1) int at) {
        ByteBuffer a = block(3, true);
        ByteBuffer b = block(3, true);
        b.put(at, (byte) (b.get(at) ^ 1));
        assertThat(hash(b)).isNotEqualTo(hash(a));
    }
}
