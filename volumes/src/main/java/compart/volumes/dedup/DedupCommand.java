package compart.volumes.dedup;

import compart.errors.CompartException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code compart-dedup}: deduplicates the regular files under the given paths, in place. */
@Command(name = "compart-dedup", mixinStandardHelpOptions = true, version = "compart-dedup 0.1",
        description = {"Deduplicates the regular files under PATH... in place with FIDEDUPERANGE (the kernel compares",
                "every byte first, so contents never change), skipping blocks that already share storage",
                "(snapshots, clones). With --hashfile, a later run rereads only new or changed files."})
public final class DedupCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "PATH", description = "files or directories to deduplicate")
    List<Path> paths;

    @Option(names = "--hashfile", paramLabel = "FILE", description = "keep block hashes here between runs (H2 MVStore)")
    Path hashFile;

    @Option(names = "--block-size", paramLabel = "BYTES", defaultValue = "131072",
            description = "block size compared and shared, a power of two from 4096 (default: ${DEFAULT-VALUE})")
    int blockSize;

    @Option(names = "--threads", paramLabel = "N", description = "reading and hashing threads, one read in flight each (default: 2)")
    Integer threads;

    @Option(names = "--json", description = "print one JSON object: scanned_bytes, deduped_bytes, skipped_shared_bytes, seconds")
    boolean json;

    @Option(names = "--format", paramLabel = "text|json", defaultValue = "text", description = "summary format (default: text)")
    String format;

    @Option(names = {"-q", "--quiet"}, description = "no progress on stderr")
    boolean quiet;

    @Option(names = {"-v", "--verbose"}, description = "print when each phase ends, on stderr")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(new CommandLine(new DedupCommand()).execute(args));
    }

    @Override
    public Integer call() {
        PrintStream err = System.err;
        boolean tty = !quiet && System.console() != null && System.console().isTerminal();
        long[] last = {0};
        Deduplicator.Progress progress = tty ? (phase, done, total) -> {
            if (phase.equals("plan") || phase.equals("save")) {
                return;
            }
            long now = System.nanoTime();
            synchronized (last) {
                if (now - last[0] > 200_000_000L || done == total) {
                    last[0] = now;
                    err.printf(Locale.ROOT, "\r%-6s %5.1f%% of %,d MiB ", phase,
                            total == 0 ? 100.0 : 100.0 * done / total, total >> 20);
                    err.flush();
                }
            }
        } : Deduplicator.Progress.NONE;
        if (verbose) {
            long start = System.nanoTime();
            Deduplicator.Progress inner = progress;
            progress = (phase, done, total) -> {
                inner.update(phase, done, total);
                if (done == total) {
                    err.printf(Locale.ROOT, "%n%s done at %.3f s%n", phase, (System.nanoTime() - start) / 1e9);
                }
            };
        }
        try {
            DedupOptions options = new DedupOptions(blockSize, hashFile,
                    threads != null ? threads : DedupOptions.DEFAULT_THREADS);
            DedupReport r = new Deduplicator(options, progress).run(paths);
            if (tty) {
                err.println();
            }
            if (json || format.equals("json")) {
                System.out.printf(Locale.ROOT, "{\"files\": %d, \"reread_files\": %d, \"scanned_bytes\": %d, "
                                + "\"deduped_bytes\": %d, \"skipped_shared_bytes\": %d, \"seconds\": %.3f}%n",
                        r.files(), r.rereadFiles(), r.scannedBytes(), r.dedupedBytes(), r.skippedSharedBytes(), r.seconds());
            } else {
                System.out.printf(Locale.ROOT, "%d files (%d reread), scanned %,d bytes, deduplicated %,d bytes,"
                                + " %,d bytes already shared, %.2f s%n", r.files(), r.rereadFiles(), r.scannedBytes(),
                        r.dedupedBytes(), r.skippedSharedBytes(), r.seconds());
            }
            return 0;
        } catch (CompartException e) {
            if (tty) {
                err.println();
            }
            err.println("compart-dedup: " + e.getMessage());
            return 1;
        }
    }
}
