package compart.xenhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestTemplateSpecTest {
    private static final CacheKey DOM0 = new CacheKey("0123456789abcdef");

    @TempDir
    Path sources;

    @Test
    void withoutSourcesTsv_theSourcesAreAbsent() {
        assertThat(GuestTemplateSpec.bookworm("http://m/debian", sources).sourcesPresent()).isFalse();
    }

    @Test
    void tarballsMatchingTheirPinnedSha256_verify() throws Exception {
        var spec = specWith("vchan.tar.gz", "upstream bytes", sha256("upstream bytes"));

        spec.verifySources();

        assertThat(spec.sourcesPresent()).isTrue();
        assertThat(spec.sourceList()).extracting(GuestTemplateSpec.Source::file).containsExactly("vchan.tar.gz");
    }

    @Test
    void aTarballThatDiffersFromItsPin_isRefused_namingIt() throws Exception {
        var spec = specWith("vchan.tar.gz", "patched bytes", sha256("upstream bytes"));

        assertThatThrownBy(spec::verifySources).isInstanceOf(CompartException.class)
                .hasMessageContaining("vchan.tar.gz").hasMessageContaining(sha256("upstream bytes"));
    }

    @Test
    void templateKey_changesWithAPinnedSha256_andWithTheDom0Base_butTheGuestBaseDoesNot() throws Exception {
        var one = specWith("vchan.tar.gz", "a", sha256("a"));
        CacheKey base = one.baseKey();
        CacheKey template = one.templateKey(DOM0);
        var two = specWith("vchan.tar.gz", "b", sha256("b"));

        assertThat(two.baseKey()).isEqualTo(base);
        assertThat(two.templateKey(DOM0)).isNotEqualTo(template);
        assertThat(one.templateKey(new CacheKey("fedcba9876543210"))).isNotEqualTo(template);
    }

    @Test
    void aMalformedSourcesLine_isRefused() throws Exception {
        Files.writeString(sources.resolve("SOURCES.tsv"), "repository\ttag\tcommit\tfile\tsha256\nonly\ttwo\n");

        assertThatThrownBy(() -> GuestTemplateSpec.bookworm("http://m/debian", sources).sourceList())
                .isInstanceOf(CompartException.class).hasMessageContaining("only\ttwo");
    }

    private GuestTemplateSpec specWith(String file, String content, String pinned) throws Exception {
        Files.writeString(sources.resolve(file), content);
        Files.writeString(sources.resolve("SOURCES.tsv"), "repository\ttag\tcommit\tfile\tsha256\tlicense\n"
                + "github.com/QubesOS/x\tv1\tabc\t" + file + "\t" + pinned + "\tGPL-2.0\n");
        return GuestTemplateSpec.bookworm("http://m/debian", sources);
    }

    private static String sha256(String content) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(content.getBytes(StandardCharsets.UTF_8)));
    }
}
