package compart.volumes.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import compart.volumes.ChildJvm;
import compart.xl.linux.Extent;
import compart.xl.linux.LinuxFile;
import compart.xl.testing.LoopFileSystem;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;

/**
 * Sparse images cost what their data costs: Qubes volumes are sparse (a 10 GiB volatile volume holding a few MiB),
 * and compart-dedup with 4 KiB blocks runs over 16 and 12 GiB sparse images holding 8 MiB each in a JVM of 48 MiB
 * (tables by the apparent size would need 4.2 million blocks' worth, some 100 MiB of arrays alone). Real
 * loop-mounted XFS; the command runs in a child JVM with {@code -Xmx48m}.
 */
class DedupSparseFilesTest extends OnLoopXfs {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    private static byte[] random(long n, long seed) {
        byte[] b = new byte[(int) n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /**
     * Writes {@code data} at each offset of a new sparse file of {@code size} bytes. The size is set first: a
     * write past the end would leave XFS's speculative preallocation inside the file once it grew.
     */
    private static void sparse(Path p, long size, Map<Long, byte[]> data) throws IOException, InterruptedException {
        Files.createFile(p);
        LoopFileSystem.run("truncate", "-s", Long.toString(size), p.toString());
        for (Map.Entry<Long, byte[]> e : new TreeMap<>(data).entrySet()) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(e.getValue()), e.getKey());
                ch.force(true);
            }
        }
    }

    /** The data ranges of a file, FIEMAP's extents joined where they touch: {offset -> end}. */
    private static TreeMap<Long, Long> dataRanges(Path p) {
        TreeMap<Long, Long> ranges = new TreeMap<>();
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ)) {
            for (Extent e : f.extents(0, Long.MAX_VALUE, true)) {
                Map.Entry<Long, Long> last = ranges.lastEntry();
                if (last != null && last.getValue() >= e.logical()) {
                    ranges.put(last.getKey(), Math.max(last.getValue(), e.end()));
                } else {
                    ranges.put(e.logical(), e.end());
                }
            }
        }
        return ranges;
    }

    /**
     * SHA-256 of the file's size, data ranges and their bytes. Equal digests mean equal contents (what is not in
     * a data range reads as zeros); it reads megabytes where a plain sha256 of the whole file would read 28 GiB
     * of holes.
     */
    private static String contentDigest(Path p) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(ByteBuffer.allocate(8).putLong(Files.size(p)).array());
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            for (Map.Entry<Long, Long> r : dataRanges(p).entrySet()) {
                long end = Math.min(r.getValue(), ch.size());
                md.update(ByteBuffer.allocate(16).putLong(r.getKey()).putLong(end).array());
                ByteBuffer buf = ByteBuffer.allocate((int) (end - r.getKey()));
                while (buf.hasRemaining() && ch.read(buf, r.getKey() + buf.position()) >= 0) {
                    // read it all
                }
                md.update(buf.flip());
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static long sharedBytes(Path p) {
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ)) {
            return f.extents(0, Long.MAX_VALUE, true).stream().filter(Extent::shared).mapToLong(Extent::length).sum();
        }
    }

    /** Runs {@code compart-dedup ARGS} in a JVM with {@code heap}; @return its JSON summary's numbers */
    private static Map<String, Long> dedupInChild(String heap, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(ChildJvm.command(List.of("-Xmx" + heap), DedupCommand.class));
        cmd.addAll(List.of(DedupCommand.class.getName(), "--json"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("compart-dedup's exit status in %s of heap; output: %s", heap, out).isZero();
        Map<String, Long> numbers = new TreeMap<>();
        Matcher m = Pattern.compile("\"(\\w+)\": (\\d+)[,}]").matcher(out);
        while (m.find()) {
            numbers.put(m.group(1), Long.parseLong(m.group(2)));
        }
        assertThat(numbers).as(out).containsKeys("scanned_bytes", "deduped_bytes", "reread_files");
        return numbers;
    }

    @Test
    void sparseImagesOf16And12GiB_dedupWith4KiBBlocks_inA48MiBHeap_andTheSecondRunRereadsNothing() throws Exception {
        byte[] a = random(3 * MIB, 1);
        byte[] b = random(2 * MIB, 2);
        byte[] c = random(3 * MIB, 3);
        Path volatileImg = dir.resolve("volatile.img");
        Path privateImg = dir.resolve("private.img");
        sparse(volatileImg, 16 * GIB, Map.of(GIB, a, 7 * GIB + 12288, b, 16 * GIB - 3 * MIB, c));
        // the same data at other offsets (not all 128 KiB aligned), and 1 MiB of its own
        sparse(privateImg, 12 * GIB, Map.of(100 * MIB, c, 5 * GIB + 4096, a, 11 * GIB + 40960, b,
                6 * GIB, random(MIB, 4)));
        Map<Path, String> before = Map.of(volatileImg, contentDigest(volatileImg), privateImg, contentDigest(privateImg));
        long freeBefore = LinuxFile.fileSystem(fs.root()).freeBytes();

        Map<String, Long> first = dedupInChild("48m", "--block-size", "4096", "--hashfile", hashFile.toString(),
                dir.toString());

        assertThat(first.get("scanned_bytes")).as("the data only, read once").isEqualTo(17 * MIB);
        assertThat(first.get("deduped_bytes")).isEqualTo(8 * MIB);
        assertThat(Map.of(volatileImg, contentDigest(volatileImg), privateImg, contentDigest(privateImg)))
                .isEqualTo(before);
        assertThat(sharedBytes(privateImg)).isEqualTo(8 * MIB);
        assertThat(sharedBytes(volatileImg)).isEqualTo(8 * MIB);
        assertThat(LinuxFile.fileSystem(fs.root()).freeBytes()).as("8 MiB freed")
                .isGreaterThanOrEqualTo(freeBefore + 7 * MIB);
        assertThat(Files.size(hashFile)).as("the hash file holds the data blocks only").isLessThan(4 * MIB);

        Map<String, Long> second = dedupInChild("48m", "--block-size", "4096", "--hashfile", hashFile.toString(),
                dir.toString());

        assertThat(second.get("reread_files")).isZero();
        assertThat(second.get("scanned_bytes")).isZero();
        assertThat(second.get("deduped_bytes")).isZero();
    }

    @Test
    void aDryRun_countsWhatItWouldMerge_mergesNothing_andWritesNoHashFile() throws Exception {
        byte[] a = random(2 * MIB, 5);
        sparse(dir.resolve("x.img"), 4 * GIB, Map.of(GIB, a));
        sparse(dir.resolve("y.img"), 4 * GIB, Map.of(3 * GIB, a));

        Map<String, Long> dry = dedupInChild("48m", "-n", "--block-size", "4096", "--hashfile", hashFile.toString(),
                dir.toString());

        assertThat(dry.get("deduped_bytes")).isEqualTo(2 * MIB);
        assertThat(sharedBytes(dir.resolve("y.img"))).isZero();
        assertThat(hashFile).doesNotExist();
        Map<String, Long> real = dedupInChild("48m", "--block-size", "4096", "--hashfile", hashFile.toString(),
                dir.toString());
        assertThat(real.get("scanned_bytes")).isEqualTo(4 * MIB);
        assertThat(real.get("deduped_bytes")).isEqualTo(2 * MIB);
        assertThat(sharedBytes(dir.resolve("y.img"))).isEqualTo(2 * MIB);
    }

    @Test
    void aHashFileOfTheFormerFormat_isDropped_andEverythingIsReread() throws Exception {
        byte[] a = random(2 * MIB, 6);
        sparse(dir.resolve("x.img"), GIB, Map.of(0L, a));
        sparse(dir.resolve("y.img"), GIB, Map.of(GIB / 2, a));
        // format 1: one record per block of the apparent size, keyed by path, here with the files' current
        // identities and hashes that are all wrong: trusted, they would hide every duplicate
        try (MVStore old = new MVStore.Builder().fileName(hashFile.toString()).open()) {
            MVMap<String, long[]> stats = old.openMap("files");
            MVMap<String, byte[]> hashes = old.openMap("hashes");
            MVMap<String, long[]> layouts = old.openMap("layout");
            for (String name : List.of("x.img", "y.img")) {
                Path p = dir.resolve(name);
                Map<String, Object> st = Files.readAttributes(p, "unix:ino,size,lastModifiedTime,ctime");
                stats.put(p.toString(), new long[] {(Long) st.get("ino"), (Long) st.get("size"),
                        ((java.nio.file.attribute.FileTime) st.get("lastModifiedTime")).to(java.util.concurrent.TimeUnit.NANOSECONDS),
                        ((java.nio.file.attribute.FileTime) st.get("ctime")).to(java.util.concurrent.TimeUnit.NANOSECONDS)});
                byte[] h = random(16 * (GIB / 4096), name.hashCode());
                hashes.put(p.toString(), h);
                layouts.put(p.toString(), new long[(int) (GIB / 4096)]);
            }
            old.commit();
        }

        Map<String, Long> r = dedupInChild("48m", "--block-size", "4096", "--hashfile", hashFile.toString(),
                dir.toString());

        assertThat(r.get("scanned_bytes")).isEqualTo(4 * MIB);
        assertThat(r.get("deduped_bytes")).isEqualTo(2 * MIB);
        try (MVStore store = new MVStore.Builder().fileName(hashFile.toString()).readOnly().open()) {
            assertThat(store.getMapNames()).doesNotContain("files", "hashes", "layout").contains("files.2", "hashes.2");
        }
    }
}
