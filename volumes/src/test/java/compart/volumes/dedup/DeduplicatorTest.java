package compart.volumes.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import compart.xl.linux.Extent;
import compart.xl.linux.LinuxFile;
import compart.xl.testing.LoopFileSystem;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Deduplication on a real loop-mounted XFS with reflink. */
class DeduplicatorTest extends OnLoopXfs {
    private static final int MIB = 1 << 20;
    private static final int BS = DedupOptions.DEFAULT_BLOCK_SIZE;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static void write(Path p, byte[] data) throws IOException {
        Files.write(p, data);
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ_WRITE)) {
            f.fsync();
        }
    }

    private static void overwrite(Path p, long offset, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data), offset);
            ch.force(true);
        }
    }

    private Map<Path, String> sha256All() throws Exception {
        Map<Path, String> m = new HashMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                m.put(p, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
        }
        return m;
    }

    private static long sharedBytes(Path p) {
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ)) {
            return f.extents(0, Long.MAX_VALUE, true).stream().filter(Extent::shared).mapToLong(Extent::length).sum();
        }
    }

    private DedupReport dedup() {
        return new Deduplicator(new DedupOptions(BS, hashFile, 2), Deduplicator.Progress.NONE).run(List.of(dir));
    }

    @Test
    void dedup_mergesEqualBlocks_andEveryFileKeepsItsContent() throws Exception {
        byte[] base = random(8 * MIB, 1);
        write(dir.resolve("a"), base);
        write(dir.resolve("b"), base); // the same bytes, written separately
        byte[] changed = base.clone();
        System.arraycopy(random(3 * BS, 2), 0, changed, 10 * BS, 3 * BS); // 3 blocks differ
        write(dir.resolve("c"), changed);
        write(dir.resolve("unique"), random(2 * MIB, 3));
        Map<Path, String> before = sha256All();

        DedupReport r = dedup();

        assertThat(sha256All()).isEqualTo(before);
        assertThat(r.files()).isEqualTo(4);
        assertThat(r.scannedBytes()).isEqualTo(26L * MIB);
        assertThat(r.dedupedBytes()).isEqualTo(8L * MIB + 8L * MIB - 3L * BS);
        assertThat(sharedBytes(dir.resolve("b"))).isEqualTo(8L * MIB);
        assertThat(sharedBytes(dir.resolve("c"))).isEqualTo(8L * MIB - 3L * BS);
        assertThat(sharedBytes(dir.resolve("unique"))).isZero();
    }

    @Test
    void dedup_findsEqualBlocksAtDifferentOffsets_andWithinOneFile() throws Exception {
        byte[] block = random(BS, 4);
        byte[] f = random(4 * BS, 9);
        System.arraycopy(block, 0, f, 0, BS);
        System.arraycopy(block, 0, f, 3 * BS, BS);
        write(dir.resolve("self"), f);
        byte[] g = random(4 * BS, 5);
        System.arraycopy(block, 0, g, BS, BS);
        write(dir.resolve("other"), g);
        Map<Path, String> before = sha256All();

        DedupReport r = dedup();

        assertThat(sha256All()).isEqualTo(before);
        assertThat(r.dedupedBytes()).isEqualTo(2L * BS);
    }

    @Test
    void secondRun_rereadsNothing_andAfterASmallChange_onlyTheChangedFile() throws Exception {
        byte[] base = random(8 * MIB, 6);
        write(dir.resolve("a"), base);
        write(dir.resolve("b"), base);
        write(dir.resolve("c"), random(4 * MIB, 7));
        DedupReport first = dedup();
        assertThat(first.rereadFiles()).isEqualTo(3);

        DedupReport second = dedup();
        assertThat(second.rereadFiles()).isZero();
        assertThat(second.scannedBytes()).isZero();
        assertThat(second.dedupedBytes()).isZero();

        // c gets one block of a: only c is reread, and that block is merged
        overwrite(dir.resolve("c"), 0, java.util.Arrays.copyOfRange(base, 5 * BS, 6 * BS));
        Map<Path, String> before = sha256All();
        DedupReport third = dedup();
        assertThat(third.rereadFiles()).isEqualTo(1);
        assertThat(third.scannedBytes()).isEqualTo(4L * MIB);
        assertThat(third.dedupedBytes()).isEqualTo(BS);
        assertThat(sha256All()).isEqualTo(before);
    }

    @Test
    void snapshotsAndClones_areReadOnce_andNothingIsMergedTwice() throws Exception {
        byte[] base = random(8 * MIB, 8);
        write(dir.resolve("template.img"), base);
        LinuxFile.cloneFile(dir.resolve("template.img"), dir.resolve("snap1.img"));
        LinuxFile.cloneFile(dir.resolve("template.img"), dir.resolve("snap2.img"));
        long freeBefore = LinuxFile.fileSystem(fs.root()).freeBytes();

        DedupReport r = dedup();

        assertThat(r.scannedBytes()).as("the shared blocks are read once").isEqualTo(8L * MIB);
        assertThat(r.dedupedBytes()).isZero();
        assertThat(r.skippedSharedBytes()).isEqualTo(16L * MIB);
        assertThat(LinuxFile.fileSystem(fs.root()).freeBytes()).isGreaterThanOrEqualTo(freeBefore - MIB);

        // a separately written copy is merged once, and the snapshots stay shared
        write(dir.resolve("copy.img"), base);
        DedupReport again = dedup();
        assertThat(again.rereadFiles()).isEqualTo(1);
        assertThat(again.dedupedBytes()).isEqualTo(8L * MIB);
        assertThat(sharedBytes(dir.resolve("snap1.img"))).isEqualTo(8L * MIB);
        assertThat(dedup().dedupedBytes()).isZero();
    }

    @Test
    void aFirstRun_mergesAnUnsharedCopyIntoTheSnapshots_evenWhenTheCopyIsListedFirst() throws Exception {
        // "a-copy.img" sorts (and is read) before the template: merged as they are read, the copy would become
        // the canonical block and the template would be merged into it, away from its snapshots, saving nothing
        byte[] base = random(8 * MIB, 17);
        write(dir.resolve("a-copy.img"), base);
        write(dir.resolve("template.img"), base);
        LinuxFile.cloneFile(dir.resolve("template.img"), dir.resolve("template-snap.img"));
        long freeBefore = LinuxFile.fileSystem(fs.root()).freeBytes();
        Map<Path, String> before = sha256All();

        DedupReport r = dedup();

        assertThat(sha256All()).isEqualTo(before);
        assertThat(r.scannedBytes()).isEqualTo(16L * MIB);
        assertThat(r.dedupedBytes()).isEqualTo(8L * MIB);
        assertThat(r.skippedSharedBytes()).isEqualTo(8L * MIB);
        assertThat(sharedBytes(dir.resolve("template-snap.img"))).isEqualTo(8L * MIB);
        assertThat(sharedBytes(dir.resolve("a-copy.img"))).isEqualTo(8L * MIB);
        assertThat(LinuxFile.fileSystem(fs.root()).freeBytes()).as("the copy's 8 MiB are freed")
                .isGreaterThanOrEqualTo(freeBefore + 7L * MIB);
    }

    @Test
    void afterASmallChangeInADedupedFile_onlyTheChangedAndTheUnsharedBlocksAreReread() throws Exception {
        byte[] base = random(8 * MIB, 10);
        byte[] other = base.clone();
        System.arraycopy(random(BS, 11), 0, other, 10 * BS, BS);
        System.arraycopy(random(BS, 12), 0, other, 20 * BS, BS);
        write(dir.resolve("a"), base);
        write(dir.resolve("b"), other);
        assertThat(dedup().dedupedBytes()).isEqualTo(8L * MIB - 2L * BS);

        overwrite(dir.resolve("b"), 30L * BS, random(BS, 13)); // a shared block: copied on write
        DedupReport second = dedup();
        assertThat(second.rereadFiles()).isEqualTo(1);
        assertThat(second.scannedBytes()).as("blocks 10, 20 (unshared: maybe written in place) and 30").isEqualTo(3L * BS);
        assertThat(second.dedupedBytes()).isZero();

        overwrite(dir.resolve("b"), 40L * BS, java.util.Arrays.copyOfRange(base, 41 * BS, 42 * BS));
        Map<Path, String> before = sha256All();
        DedupReport third = dedup();
        assertThat(third.scannedBytes()).isEqualTo(4L * BS);
        assertThat(third.dedupedBytes()).isEqualTo(BS);
        assertThat(sha256All()).isEqualTo(before);
        assertThat(sharedBytes(dir.resolve("b"))).isEqualTo(8L * MIB - 3L * BS);
    }

    @Test
    void aQubesStartStopCycle_rereadsOnlyWhatTheQubeWrote() throws Exception {
        byte[] base = random(8 * MIB, 14);
        Path clean = dir.resolve("private.img");
        write(clean, base);
        write(dir.resolve("copy.img"), base);
        assertThat(dedup().dedupedBytes()).isEqualTo(8L * MIB);

        // start: the running copy is a reflink of the committed image; the qube writes one block; stop: the
        // committed image becomes a revision and the running copy the committed image (new inode, same path)
        Path dirty = dir.resolve("private-dirty.img");
        LinuxFile.cloneFile(clean, dirty);
        overwrite(dirty, 5L * BS, random(BS, 15));
        Files.move(clean, dir.resolve("private.img@000001"));
        Files.move(dirty, clean);
        Map<Path, String> before = sha256All();

        DedupReport r = dedup();

        assertThat(r.files()).isEqualTo(3);
        assertThat(r.scannedBytes()).as("only the block the qube wrote").isEqualTo(BS);
        assertThat(r.dedupedBytes()).isZero();
        assertThat(sha256All()).isEqualTo(before);
    }

    @Test
    void aGrownImage_rereadsOnlyItsNewBlocks() throws Exception {
        byte[] base = random(4 * MIB, 16);
        write(dir.resolve("a"), base);
        write(dir.resolve("b"), base);
        assertThat(dedup().dedupedBytes()).isEqualTo(4L * MIB);

        overwrite(dir.resolve("b"), 4L * MIB, java.util.Arrays.copyOfRange(base, 0, MIB)); // b grows by 1 MiB
        DedupReport r = dedup();

        assertThat(r.scannedBytes()).isEqualTo(MIB);
        assertThat(r.dedupedBytes()).as("the new MiB equals a's first").isEqualTo(MIB);
    }
}
