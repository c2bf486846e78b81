package compart.volumes.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** compart-dedup's picocli-free start reads a command line exactly as picocli does, or leaves it to picocli. */
class DedupCommandTest {

    @Provide
    Arbitrary<List<String>> commandLines() {
        return Arbitraries.of("img", "dir/b.img", "--hashfile", "--hashfile=h.db", "h.db", "--block-size", "4096",
                        "--block-size=65536", "--threads", "3", "--threads=1", "--json", "--format", "json",
                        "--format=text", "-q", "--quiet", "-v", "--verbose", "-qv", "-n", "--dry-run", "-nv", "--help", "-V", "-x", "@args", "",
                        "0x10", "-1", "--json=true", "--", "99999999999")
                .list().ofMinSize(0).ofMaxSize(7);
    }

    @Property(tries = 3000)
    void plainStart_readsWhatPicocliReads(@ForAll("commandLines") List<String> line) {
        String[] args = line.toArray(String[]::new);
        DedupCommand plain = DedupCommand.plain(args);
        if (plain == null) {
            return;
        }
        DedupCommand parsed = new DedupCommand();
        assertThatCode(() -> new CommandLine(parsed).parseArgs(args)).as(line.toString()).doesNotThrowAnyException();
        assertThat(plain.paths).as(line.toString()).isEqualTo(parsed.paths);
        assertThat(plain.hashFile).as(line.toString()).isEqualTo(parsed.hashFile);
        assertThat(plain.blockSize).as(line.toString()).isEqualTo(parsed.blockSize);
        assertThat(plain.threads).as(line.toString()).isEqualTo(parsed.threads);
        assertThat(plain.json).as(line.toString()).isEqualTo(parsed.json);
        assertThat(plain.format).as(line.toString()).isEqualTo(parsed.format);
        assertThat(plain.quiet).as(line.toString()).isEqualTo(parsed.quiet);
        assertThat(plain.verbose).as(line.toString()).isEqualTo(parsed.verbose);
        assertThat(plain.dryRun).as(line.toString()).isEqualTo(parsed.dryRun);
    }

    @Test
    void theBenchmarksCommandLine_startsWithoutPicocli_andHelpGoesToPicocli() {
        DedupCommand c = DedupCommand.plain(new String[] {"-v", "--json", "--hashfile", "/x/h.db", "/data"});
        assertThat(c).isNotNull();
        assertThat(c.verbose).isTrue();
        assertThat(c.json).isTrue();
        assertThat(c.hashFile).hasToString("/x/h.db");
        assertThat(c.paths).hasToString("[/data]");
        assertThat(DedupCommand.plain(new String[] {"--help"})).isNull();
        assertThat(DedupCommand.plain(new String[] {"--version"})).isNull();
        assertThat(DedupCommand.plain(new String[] {"--json"})).isNull(); // no path: picocli says what is missing
    }

    @Property(tries = 500)
    void summaryNumbers_readAsPrintfWritesThem(@ForAll long n, @ForAll("seconds") double seconds) {
        assertThat(DedupCommand.grouped(n)).isEqualTo(String.format(java.util.Locale.ROOT, "%,d", n));
        assertThat(DedupCommand.decimal(seconds, 3)).isEqualTo(String.format(java.util.Locale.ROOT, "%.3f", seconds));
        assertThat(DedupCommand.decimal(seconds, 2)).isEqualTo(String.format(java.util.Locale.ROOT, "%.2f", seconds));
    }

    @Provide
    Arbitrary<Double> seconds() {
        return Arbitraries.integers().between(0, 10_000_000).map(ms -> ms / 1000.0 + 0.0001);
    }
}
