package compart.volumes.dedup;

import compart.errors.CompartException;
import compart.xl.linux.LinuxFile;
import java.io.PrintStream;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

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

    @Option(names = {"-n", "--dry-run"}, description = {"only report: hash and plan, count what would be deduplicated,",
            "merge nothing and leave the hash file as it was"})
    boolean dryRun;

    @Option(names = {"-q", "--quiet"}, description = "no progress on stderr")
    boolean quiet;

    @Option(names = {"-v", "--verbose"}, description = "print when each phase ends, on stderr")
    boolean verbose;

    public static void main(String[] args) {
        DedupCommand plain = plain(args);
        System.exit(plain != null ? plain.call() : new CommandLine(new DedupCommand()).execute(args));
    }

    /**
     * The command for a usual call — the options above, each at most once, and paths — without picocli:
     * building picocli's model of the command costs about 60 ms of start-up, as much as a small incremental run.
     * Anything else (help, version, a combined or unknown option, an {@code @file}, a value that is not plain)
     * goes to picocli, which alone prints help and errors. DedupCommandTest checks that both read the same.
     *
     * @return the command with its fields set, or null to let picocli parse {@code args}
     */
    static DedupCommand plain(String[] args) {
        DedupCommand c = new DedupCommand();
        c.paths = new ArrayList<>();
        c.blockSize = DedupOptions.DEFAULT_BLOCK_SIZE;
        c.format = "text";
        Set<String> seen = new HashSet<>();
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.isEmpty() || a.startsWith("@")) {
                    return null;
                }
                if (!a.startsWith("-")) {
                    c.paths.add(Path.of(a));
                    continue;
                }
                int eq = a.indexOf('=');
                String name = eq < 0 ? a : a.substring(0, eq);
                String key = switch (name) {
                    case "-q", "--quiet" -> "quiet";
                    case "-v", "--verbose" -> "verbose";
                    case "-n", "--dry-run" -> "dryRun";
                    default -> name;
                };
                if (!seen.add(key)) {
                    return null;
                }
                switch (key) {
                    case "quiet", "verbose", "dryRun", "--json" -> {
                        if (eq >= 0) {
                            return null;
                        }
                        c.dryRun |= key.equals("dryRun");
                        c.quiet |= key.equals("quiet");
                        c.verbose |= key.equals("verbose");
                        c.json |= key.equals("--json");
                    }
                    case "--hashfile", "--block-size", "--threads", "--format" -> {
                        String v = eq >= 0 ? a.substring(eq + 1) : ++i < args.length ? args[i] : null;
                        if (v == null || v.isEmpty() || v.startsWith("-") || v.startsWith("@")) {
                            return null;
                        }
                        switch (key) {
                            case "--hashfile" -> c.hashFile = Path.of(v);
                            case "--format" -> c.format = v;
                            default -> {
                                if (!v.matches("[0-9]{1,9}")) {
                                    return null;
                                }
                                if (key.equals("--threads")) {
                                    c.threads = Integer.valueOf(v);
                                } else {
                                    c.blockSize = Integer.parseInt(v);
                                }
                            }
                        }
                    }
                    default -> {
                        return null;
                    }
                }
            }
        } catch (InvalidPathException e) {
            return null;
        }
        return c.paths.isEmpty() ? null : c;
    }

    @Override
    public Integer call() {
        // Linking FFM's downcall handles is a good part of the start-up (about 35 ms, more on a loaded machine):
        // this thread does it on the other core while the main one lists the files and opens the hash store.
        Path first = paths.getFirst();
        Thread.ofPlatform().daemon().name("dedup-link").start(() -> {
            try (LinuxFile f = LinuxFile.open(first, LinuxFile.Mode.READ)) {
                f.extents(0, 1, false);
            } catch (RuntimeException ignored) {
                // only a warm-up: the run itself reports what fails
            }
        });
        PrintStream err = System.err;
        boolean tty = !quiet && System.console() != null && System.console().isTerminal();
        long[] last = {0};
        Deduplicator.Progress progress = tty ? (phase, done, total) -> {
            if (!phase.equals("hash") && !phase.equals("dedupe")) {
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
                    err.print(System.lineSeparator() + phase + " done at " + decimal((System.nanoTime() - start) / 1e9, 3)
                            + " s" + System.lineSeparator());
                }
            };
        }
        try {
            DedupOptions options = new DedupOptions(blockSize, hashFile,
                    threads != null ? threads : DedupOptions.DEFAULT_THREADS, dryRun);
            DedupReport r = new Deduplicator(options, progress).run(paths);
            if (tty) {
                err.println();
            }
            if (json || format.equals("json")) {
                System.out.println("{\"files\": " + r.files() + ", \"reread_files\": " + r.rereadFiles()
                        + ", \"scanned_bytes\": " + r.scannedBytes() + ", \"deduped_bytes\": " + r.dedupedBytes()
                        + ", \"skipped_shared_bytes\": " + r.skippedSharedBytes() + ", \"seconds\": "
                        + decimal(r.seconds(), 3) + (dryRun ? ", \"dry_run\": true" : "") + "}");
            } else {
                System.out.println(r.files() + " files (" + r.rereadFiles() + " reread), scanned "
                        + grouped(r.scannedBytes()) + (dryRun ? " bytes, would deduplicate " : " bytes, deduplicated ")
                        + grouped(r.dedupedBytes())
                        + " bytes, " + grouped(r.skippedSharedBytes()) + " bytes already shared, "
                        + decimal(r.seconds(), 2) + " s");
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

    // The summary is built by hand, not with printf: java.util.Formatter loads the locale providers, about 10 ms
    // of a run that may take 100.

    /** @return {@code v} rounded to {@code places} decimals, with a dot: {@code decimal(1.2345, 3)} is "1.235" */
    static String decimal(double v, int places) {
        long scale = places == 2 ? 100 : 1000;
        long n = Math.round(Math.abs(v) * scale);
        String frac = Long.toString(scale + n % scale).substring(1);
        return (v < 0 && n != 0 ? "-" : "") + n / scale + "." + frac;
    }

    /** @return {@code n} with a comma between groups of three digits: {@code grouped(1234567)} is "1,234,567" */
    static String grouped(long n) {
        String digits = Long.toString(n);
        StringBuilder b = new StringBuilder();
        if (n < 0) {
            b.append('-');
            digits = digits.substring(1);
        }
        for (int i = 0; i < digits.length(); i++) {
            if (i > 0 && (digits.length() - i) % 3 == 0) {
                b.append(',');
            }
            b.append(digits.charAt(i));
        }
        return b.toString();
    }
}
