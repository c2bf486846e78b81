package compart.volumes.reflink;

import compart.volumes.PoolConfig;
import compart.volumes.PoolDriver;
import compart.volumes.Volume;
import compart.volumes.VolumeConfig;
import compart.volumes.dedup.DedupKeeper;
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
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Commit to deduplicated: a {@code file-reflink} pool with {@code dedup=on} (its {@link DedupKeeper}, in this JVM as
 * in the daemon) against Debian's {@code duperemove -dr --hashfile} run after the same change, both incremental,
 * on pools generated alike on one loop-mounted XFS (reflink=1), interleaved round by round.
 *
 * <p>Each pool: a template root with {@code TEMPLATE_MIB} MiB of data, a 2 GiB private volume with
 * {@code PRIVATE_MIB} MiB, deduplicated once (untimed). Each round, the qube of each pool starts its private
 * volume, writes 64 MiB — 32 MiB copied from the template (at 128 KiB boundaries) and 32 MiB new — and stops;
 * timed from the stop (which commits) until the pool is deduplicated: the keeper's pass ended, or
 * duperemove's process exited. Space: the bytes of the 64 MiB that share storage afterwards (FIEMAP), against
 * the ideal — the 4 KiB blocks of the change equal to a block elsewhere in the pool, counted here by hashing.
 * Also: a start and stop of the AppVM's root (a snapshot of the template's) while the pass runs, against the
 * same when the pool is idle. duperemove runs in block mode ({@code --lookup-extents=no}, the mode that finds
 * blocks inside extents; see {@code volumes/bench/dedup-vs-duperemove.sh}) and in its default extent mode, both
 * with {@code -b 128k}.
 *
 * <p>Run as root with xfsprogs and duperemove: {@code ./mvnw -q -Pbench -pl volumes test-compile exec:exec}
 * ({@code -Dbench.args="ROUNDS TEMPLATE_MIB PRIVATE_MIB"}, default {@code 3 512 256}). Prints figures, asserts
 * nothing.
 */
public final class DedupOnCommitBenchmark {
    private static final int MIB = 1 << 20;
    private static final int BS = 128 * 1024;
    private static final long PRIVATE_SIZE = 2L << 30;
    private static final String TEMPLATE = "vm-templates/t/root";
    private static final String PRIVATE = "appvms/work/private";
    private static final String APP_ROOT = "appvms/work/root";

    private DedupOnCommitBenchmark() {
    }

    /** One pool of the comparison and how it is brought to deduplicated. */
    private record Side(String name, ReflinkPool pool, Path hashFile, List<String> duperemoveMode) {
        Volume volume(String vid, VolumeConfig c) {
            return pool.volume(vid, c);
        }

        /** Waits until the pool is deduplicated: the keeper's pass, or a run of duperemove. */
        void deduplicate() throws IOException, InterruptedException {
            if (duperemoveMode == null) {
                if (!pool.dedup().orElseThrow().awaitDeduplicated(Duration.ofMinutes(10))) {
                    throw new IllegalStateException(name + ": no pass ended: " + pool.figures());
                }
                return;
            }
            List<String> cmd = new ArrayList<>(List.of("duperemove", "-dr", "-q", "-b", "128k"));
            cmd.addAll(duperemoveMode);
            cmd.add("--hashfile=" + hashFile);
            cmd.add(pool.dir().toString());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: exit " + p.exitValue());
            }
        }
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int templateMib = args.length > 1 ? Integer.parseInt(args[1]) : 512;
        int privateMib = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        long fsBytes = 3L * 2 * (templateMib + privateMib + 64L * (rounds + 1)) * MIB + (512L << 20);
        try (LoopFileSystem fs = LoopFileSystem.mount("xfs", fsBytes)) {
            Path hashes = Files.createTempDirectory("dedup-bench-hashes");
            List<Side> sides = List.of(
                    new Side("compartd dedup=on", open(fs.root().resolve("kept"), "on"), null, null),
                    new Side("duperemove block mode", open(fs.root().resolve("block"), "off"),
                            hashes.resolve("block.hash"), List.of("--lookup-extents=no")),
                    new Side("duperemove extent mode", open(fs.root().resolve("extent"), "off"),
                            hashes.resolve("extent.hash"), List.of()));
            byte[] template = random(templateMib * MIB, 1);
            byte[] privateData = random(privateMib * MIB, 2);
            for (Side s : sides) {
                imported(s, TEMPLATE, VolumeConfig.persistent("root", template.length), template);
                imported(s, PRIVATE, VolumeConfig.persistent("private", PRIVATE_SIZE), privateData);
                s.pool().committed();
                s.deduplicate(); // the first full pass, untimed
            }
            System.out.printf(Locale.ROOT, "pools: template %d MiB, private 2 GiB holding %d MiB, on XFS; %d rounds,"
                    + " the sides in a rotating order%n", templateMib, privateMib, rounds);
            Map<String, List<Double>> seconds = new LinkedHashMap<>();
            Map<String, List<Double>> savedPercent = new LinkedHashMap<>();
            List<Double> startIdle = new ArrayList<>();
            List<Double> startDuringPass = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                byte[] fresh = random(32 * MIB, 100 + round);
                long copyFrom = (long) (round * 32 % Math.max(1, templateMib - 32)) * MIB;
                long writeAt = 512L * MIB + round * 64L * MIB; // past the private data, 128 KiB aligned
                for (int k = 0; k < sides.size(); k++) {
                    Side s = sides.get((round + k) % sides.size());
                    Volume priv = s.volume(PRIVATE, VolumeConfig.persistent("private", PRIVATE_SIZE));
                    priv.start();
                    qubeWrites(priv.blockDevicePath(), writeAt, template, copyFrom, 32 * MIB);
                    qubeWrites(priv.blockDevicePath(), writeAt + 32 * MIB, fresh, 0, fresh.length);
                    long ideal = idealBytes(s.pool().dir(), priv.blockDevicePath(), writeAt, 64 * MIB);
                    long t0 = System.nanoTime();
                    priv.stop();
                    if (s.duperemoveMode() == null) {
                        startDuringPass.add(startAndStopRoot(s) / 1e6); // while the pass runs
                    }
                    s.deduplicate();
                    double secs = (System.nanoTime() - t0) / 1e9;
                    if (s.duperemoveMode() == null) {
                        startIdle.add(startAndStopRoot(s) / 1e6);
                        secs -= startDuringPass.getLast() / 1e3; // the start measured meanwhile is no part of it
                    }
                    long shared = sharedBytes(ImageNames.committed(s.pool().dir(), PRIVATE), writeAt, 64L * MIB);
                    seconds.computeIfAbsent(s.name(), x -> new ArrayList<>()).add(secs);
                    savedPercent.computeIfAbsent(s.name(), x -> new ArrayList<>()).add(100.0 * shared / ideal);
                    System.out.printf(Locale.ROOT, "round %d %-24s commit to deduplicated %8.1f ms, shared %5.1f MiB"
                                    + " of the ideal %5.1f MiB (load %s)%n", round + 1, s.name(), secs * 1e3,
                            shared / (double) MIB, ideal / (double) MIB, load());
                }
            }
            System.out.println();
            for (String name : seconds.keySet()) {
                System.out.printf(Locale.ROOT, "%-24s commit to deduplicated: median %8.1f ms; space saved: median %5.1f%%"
                        + " of the ideal%n", name, median(seconds.get(name)) * 1e3, median(savedPercent.get(name)));
            }
            double ours = median(seconds.get(sides.get(0).name()));
            for (Side s : sides.subList(1, sides.size())) {
                System.out.printf(Locale.ROOT, "compartd vs %s: %.1fx faster%n", s.name(),
                        median(seconds.get(s.name())) / ours);
            }
            System.out.printf(Locale.ROOT, "a start+stop of the AppVM's root: %.2f ms while a pass runs, %.2f ms when"
                    + " idle (medians of %d)%n", median(startDuringPass), median(startIdle), startIdle.size());
            for (Side s : sides) {
                s.pool().close();
            }
            LoopFileSystem.run("rm", "-rf", hashes.toString());
        }
    }

    private static ReflinkPool open(Path dir, String dedup) {
        return (ReflinkPool) PoolDriver.openPool(new PoolConfig("bench-" + dir.getFileName(), ReflinkPoolDriver.NAME,
                Map.of("dir_path", dir.toString(), "dedup", dedup, "reserve_percent", "0", "revisions_to_keep", "1")));
    }

    private static void imported(Side s, String vid, VolumeConfig c, byte[] data) throws IOException {
        Volume v = s.volume(vid, c);
        v.create();
        v.start();
        qubeWrites(v.blockDevicePath(), 0, data, 0, data.length);
        v.stop();
    }

    /** @return nanoseconds of a start and a stop of the AppVM's root, a snapshot of the template's root */
    private static long startAndStopRoot(Side s) {
        Volume root = s.volume(APP_ROOT, VolumeConfig.snapshot("root", 2L << 30, TEMPLATE));
        long t0 = System.nanoTime();
        root.start();
        root.stop();
        return System.nanoTime() - t0;
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        SplittableRandom r = new SplittableRandom(seed);
        ByteBuffer bb = ByteBuffer.wrap(b);
        while (bb.remaining() >= 8) {
            bb.putLong(r.nextLong());
        }
        return b;
    }

    private static void qubeWrites(Path device, long at, byte[] data, long from, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.WRITE)) {
            ByteBuffer bb = ByteBuffer.wrap(data, (int) from, length);
            long pos = at;
            while (bb.hasRemaining()) {
                pos += ch.write(bb, pos);
            }
            ch.force(true);
        }
    }

    /**
     * @return the bytes of {@code [at, at + length)} of {@code changed} whose 4 KiB blocks equal a block of another
     *         committed image of the pool (the most deduplication could save, at the filesystem's block size)
     */
    private static long idealBytes(Path poolDir, Path changed, long at, long length) throws IOException {
        Set<String> elsewhere = new HashSet<>();
        List<Path> others;
        try (Stream<Path> walk = Files.walk(poolDir)) {
            others = walk.filter(Files::isRegularFile).filter(p -> ImageNames.isKept(poolDir.relativize(p).toString()))
                    .toList();
        }
        for (Path p : others) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                forEachBlock(ch, 0, ch.size(), elsewhere::add);
            }
        }
        long[] ideal = {0};
        try (FileChannel ch = FileChannel.open(changed, StandardOpenOption.READ)) {
            forEachBlock(ch, at, length, h -> ideal[0] += elsewhere.contains(h) ? 4096 : 0);
        }
        return ideal[0];
    }

    private static void forEachBlock(FileChannel ch, long from, long length, Consumer<String> sink)
            throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        ByteBuffer buf = ByteBuffer.allocate(4 * MIB);
        byte[] zero = new byte[4096];
        for (long pos = from; pos < from + length; pos += buf.capacity()) {
            buf.clear().limit((int) Math.min(buf.capacity(), from + length - pos));
            while (buf.hasRemaining() && ch.read(buf, pos + buf.position()) >= 0) {
                // read the whole piece
            }
            for (int off = 0; off + 4096 <= buf.position(); off += 4096) {
                if (Arrays.equals(buf.array(), off, off + 4096, zero, 0, 4096)) {
                    continue; // holes and zeros: nothing to share
                }
                md.update(buf.array(), off, 4096);
                sink.accept(HexFormat.of().formatHex(md.digest()));
            }
        }
    }

    private static long sharedBytes(Path p, long from, long length) {
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ)) {
            return f.extents(from, length, true).stream().filter(Extent::shared)
                    .mapToLong(e -> Math.min(e.logical() + e.length(), from + length) - Math.max(e.logical(), from)).sum();
        }
    }

    private static double median(List<Double> v) {
        List<Double> s = v.stream().sorted().toList();
        return s.get(s.size() / 2);
    }

    private static String load() throws IOException {
        return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    }
}
