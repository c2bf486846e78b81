package compart.volumes.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import compart.xl.linux.Extent;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** The index of a file's data blocks agrees with the plain set of blocks FIEMAP's extents touch. */
class DataBlocksTest {
    private static final int BS = 4096;

    /** Extents as FIEMAP gives them: sorted, not overlapping, at 512-byte granularity, some touching. */
    @Provide
    Arbitrary<List<Extent>> extents() {
        return Arbitraries.longs().between(0, 40).list().ofMaxSize(24).map(gaps -> {
            List<Extent> out = new ArrayList<>();
            long at = 0;
            for (int i = 0; i + 1 < gaps.size(); i += 2) {
                at += gaps.get(i) * 512 * (i % 4 == 0 ? 1 : 9);
                long length = (gaps.get(i + 1) + 1) * 512;
                out.add(new Extent(at, 1L << 30 | at, length, i % 3 == 0 ? 0x2000 : 0));
                at += length;
            }
            return out;
        });
    }

    private static TreeSet<Long> expected(List<Extent> extents, long blocks) {
        TreeSet<Long> set = new TreeSet<>();
        for (Extent e : extents) {
            for (long b = e.logical() / BS; b * BS < e.end() && b < blocks; b++) {
                set.add(b);
            }
        }
        return set;
    }

    @Property(tries = 500)
    void slotsAndBlocks_convertBothWays_andRunsAreConsecutiveBlocks(@ForAll("extents") List<Extent> extents,
                                                                   @ForAll("sizes") long blocks) {
        DataBlocks d = DataBlocks.of(extents, BS, blocks);
        List<Long> want = new ArrayList<>(expected(extents, blocks));

        assertThat(d.count()).isEqualTo(want.size());
        for (int s = 0; s < d.count(); s++) {
            assertThat(d.block(s)).isEqualTo(want.get(s));
            assertThat(d.slot(want.get(s))).isEqualTo(s);
            boolean continues = s + 1 < d.count() && want.get(s + 1) == want.get(s) + 1;
            assertThat(d.runEnd(s) > s + 1).as("slot %d continues its run", s).isEqualTo(continues);
        }
        for (long b = 0; b < blocks + 3; b++) {
            assertThat(d.slot(b) >= 0).isEqualTo(want.contains(b));
        }
        assertThat(DataBlocks.decode(d.encode(7), 1)).isEqualTo(d);
    }

    @Provide
    Arbitrary<Long> sizes() {
        return Arbitraries.longs().between(0, 400);
    }

    @Property(tries = 300)
    void common_isTheIntersection(@ForAll("extents") List<Extent> a, @ForAll("extents") List<Extent> b) {
        DataBlocks x = DataBlocks.of(a, BS, 1000);
        DataBlocks y = DataBlocks.of(b, BS, 1000);
        TreeSet<Long> want = expected(a, 1000);
        want.retainAll(expected(b, 1000));
        TreeSet<Long> got = new TreeSet<>();

        x.common(y, (here, there, length) -> {
            for (int k = 0; k < length; k++) {
                assertThat(x.block(here + k)).isEqualTo(y.block(there + k));
                got.add(x.block(here + k));
            }
        });

        assertThat(got).isEqualTo(want);
    }

    @Test
    void aSparse16GiBFile_withThreeRegions_holdsThreeRuns() {
        long gib = 1L << 30;
        DataBlocks d = DataBlocks.of(List.of(new Extent(gib, 0, 3 << 20, 0), new Extent(7 * gib + 12288, 1 << 30, 2 << 20, 0),
                new Extent(16 * gib - (3 << 20), 2L << 30, 3 << 20, 0)), BS, 16 * gib / BS);

        assertThat(d.count()).isEqualTo((8 << 20) / BS);
        assertThat(d.runs()).isEqualTo(3);
        assertThat(d.block(d.count() - 1)).isEqualTo(16 * gib / BS - 1);
        assertThat(d.block(700)).isEqualTo(gib / BS + 700);
        assertThat(d.runEnd(700)).isEqualTo(768);
        assertThat(d.block(768)).isEqualTo((7 * gib + 12288) / BS);
        assertThat(d.slot(7 * gib / BS)).as("a hole").isEqualTo(-1);
    }

    @Test
    void aBadEncoding_decodesToNull() {
        assertThat(DataBlocks.decode(new long[] {4096, 5, 2, 6, 1}, 1)).as("runs out of order").isNull();
        assertThat(DataBlocks.decode(new long[] {4096, 5, 0}, 1)).as("an empty run").isNull();
        assertThat(DataBlocks.decode(new long[] {4096, 5}, 1)).as("a half run").isNull();
        assertThat(DataBlocks.decode(new long[] {4096}, 1)).isEqualTo(DataBlocks.NONE);
    }
}
