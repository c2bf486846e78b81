package compart.core.backup;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Backup and restore of one volume through the format library, as compartd runs it, against the floor: reading the
 * volume and writing it once. In one run, for each round: the floor (copy), the backup (inner tar, gzip, 100 MiB
 * chunks, scrypt envelopes at {@link ScryptCost#DEFAULT}), the restore's verify pass and its extract pass; MiB/s of
 * volume bytes for each, and the JVM's peak heap in use during each (sampled every 5 ms, after a GC before each step), then the
 * process's peak resident memory. The volume alternates 1 MiB of random bytes and 1 MiB of zeros (half
 * compressible).
 *
 * <p>Run: {@code ./mvnw -o -q -pl toolstack-core -am test-compile dependency:build-classpath
 * -Dmdep.outputFile=/tmp/cp.txt}, then {@code java -Xmx1g -cp toolstack-core/target/test-classes:toolstack-core/target/classes:$(cat
 * /tmp/cp.txt) compart.core.backup.BackupBenchmark [MIB [ROUNDS [DIR]]]} (default 2048 MiB, 1 round, the system's
 * temporary directory). It prints the figures; it asserts nothing.
 */
public final class BackupBenchmark {
    private static final int MIB = 1 << 20;
    private static final byte[] PASSPHRASE = "benchmark passphrase".getBytes(StandardCharsets.UTF_8);

    private BackupBenchmark() {
    }

    /** @param args volume size in MiB, rounds, working directory */
    public static void main(String[] args) throws Exception {
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        Path dir = Files.createTempDirectory(args.length > 2 ? Path.of(args[2]) : Path.of(System.getProperty(
                "java.io.tmpdir")), "compart-backup-bench-");
        try {
            Path volume = dir.resolve("volume.img");
            makeVolume(volume, mib);
            long bytes = Files.size(volume);
            System.out.printf("volume: %d MiB (1 MiB random, 1 MiB zeros, alternating), scrypt logN=%d r=%d p=%d,"
                    + " chunks of %d MiB, max heap %d MiB%n", mib, ScryptCost.DEFAULT.logN(), ScryptCost.DEFAULT.r(),
                    ScryptCost.DEFAULT.p(), BackupWriter.CHUNK_BYTES / MIB, Runtime.getRuntime().maxMemory() / MIB);
            System.out.printf("%-5s %-28s %10s %10s %14s%n", "round", "step", "seconds", "MiB/s", "peak heap MiB");
            for (int r = 1; r <= rounds; r++) {
                Path copy = dir.resolve("copy.img");
                step(r, "floor: read + write once", bytes, () -> copy(volume, copy));
                Files.delete(copy);
                Path backup = dir.resolve("backup");
                step(r, "backup (qvm-backup)", bytes, () -> backup(volume, backup));
                BackupReader reader = new BackupReader(backup, PASSPHRASE, BackupReader.DEFAULT_SCRYPT_LIMIT);
                BackupReader.Contents[] contents = new BackupReader.Contents[1];
                step(r, "restore: verify pass", bytes, () -> contents[0] = reader.verify());
                Path restored = dir.resolve("restored.img");
                step(r, "restore: extract pass", bytes, () -> reader.extract(contents[0], f ->
                        f.name().endsWith(".img") ? new BufferedOutputStream(Files.newOutputStream(restored), 1 << 16)
                                : null));
                System.out.printf("      backup file %d MiB; restored volume %s%n", Files.size(backup) / MIB,
                        Files.mismatch(volume, restored) == -1 ? "byte-equal" : "DIFFERENT");
                Files.delete(backup);
                Files.delete(restored);
            }
            System.out.printf("process peak resident memory (VmHWM): %s%n", vmHwm());
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void step(int round, String name, long bytes, Step step) throws Exception {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        AtomicLong peakHeap = new AtomicLong();
        AtomicBoolean done = new AtomicBoolean();
        Thread sampler = Thread.ofPlatform().daemon().start(() -> {
            while (!done.get()) {
                peakHeap.accumulateAndGet(rt.totalMemory() - rt.freeMemory(), Math::max);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        long t0 = System.nanoTime();
        step.run();
        double s = (System.nanoTime() - t0) / 1e9;
        done.set(true);
        sampler.join();
        long peak = peakHeap.get();
        System.out.printf("%-5d %-28s %10.2f %10.1f %14d%n", round, name, s, bytes / (double) MIB / s, peak / MIB);
    }

    private static void makeVolume(Path volume, int mib) throws IOException {
        Random random = new Random(2);
        byte[] block = new byte[MIB];
        byte[] zeros = new byte[MIB];
        try (OutputStream out = Files.newOutputStream(volume)) {
            for (int i = 0; i < mib; i++) {
                if (i % 2 == 0) {
                    random.nextBytes(block);
                    out.write(block);
                } else {
                    out.write(zeros);
                }
            }
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        try (InputStream in = Files.newInputStream(from);
             OutputStream out = Files.newOutputStream(to)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
            }
        }
    }

    private static void backup(Path volume, Path backup) throws IOException {
        try (FileChannel ch = FileChannel.open(backup, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             BackupWriter w = new BackupWriter(ch, PASSPHRASE, BackupHeader.version4("20261207T180000-1", true),
                     ScryptCost.DEFAULT, BackupWriter.CHUNK_BYTES);
             InputStream in = Files.newInputStream(volume)) {
            w.addFile("qubes.xml", BackupFixtures.qubesXml("vm1/", "appvms/work/private"));
            w.addFile("vm1/private.img", Files.size(volume), in, n -> { });
        }
    }

    private static String vmHwm() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmHWM"))
                .map(l -> l.replaceAll("\\s+", " ").substring(7)).findFirst().orElse("unknown");
    }
}
