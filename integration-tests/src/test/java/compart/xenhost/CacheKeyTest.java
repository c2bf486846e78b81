package compart.xenhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CacheKeyTest {

    @Test
    void key_doesNotDependOnTheOrderInputsWereAdded() {
        CacheKey one = CacheKey.builder().add("a", "1").add("b", "2").key();
        CacheKey two = CacheKey.builder().add("b", "2").add("a", "1").key();

        assertThat(one).isEqualTo(two);
        assertThat(one.hex()).matches("[0-9a-f]{16}");
    }

    @Test
    void key_changesWithAnyContentOrName() {
        CacheKey base = CacheKey.builder().add("script", "echo hi").add("packages", "xen").key();

        assertThat(CacheKey.builder().add("script", "echo ho").add("packages", "xen").key()).isNotEqualTo(base);
        assertThat(CacheKey.builder().add("script2", "echo hi").add("packages", "xen").key()).isNotEqualTo(base);
        assertThat(CacheKey.builder().add("script", "echo hi").key()).isNotEqualTo(base);
    }

    @Test
    void movingBytesBetweenNameAndContent_givesAnotherKey() {
        assertThat(CacheKey.builder().add("ab", "c").key()).isNotEqualTo(CacheKey.builder().add("a", "bc").key());
        assertThat(CacheKey.builder().add("a", "b").add("c", "").key())
                .isNotEqualTo(CacheKey.builder().add("a", "").add("c", "b").key());
    }

    @Test
    void sameNameTwice_isRefused() {
        assertThatThrownBy(() -> CacheKey.builder().add("a", "1").add("a", "2"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a'");
    }

    @Test
    void malformedKey_isRefused() {
        assertThatThrownBy(() -> new CacheKey("XYZ")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void imageKey_followsTheJdk_butTheSlowBaseKeyDoesNot(@TempDir Path dir) throws Exception {
        Path jdk = Files.createDirectories(dir.resolve("jdk"));
        Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"25.0.1\"\n");
        var spec = ImageSpec.bookworm("http://deb.debian.org/debian", jdk);
        CacheKey base = spec.baseKey();
        CacheKey image = spec.imageKey();

        Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"25.0.2\"\n");

        assertThat(spec.baseKey()).isEqualTo(base);
        assertThat(spec.imageKey()).isNotEqualTo(image);
    }

    @Test
    void bothKeys_followThePackageListAndTheMirror(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("release"), "JAVA_VERSION=\"25\"\n");
        var spec = ImageSpec.bookworm("http://deb.debian.org/debian", dir);
        var morePackages = new ImageSpec(spec.suite(), spec.mirror(), spec.security(),
                List.of("xen-utils-4.17", "lvm2"), spec.javaModules(), dir);
        var otherMirror = ImageSpec.bookworm("http://ftp.de.debian.org/debian", dir);

        assertThat(morePackages.baseKey()).isNotEqualTo(spec.baseKey());
        assertThat(morePackages.imageKey()).isNotEqualTo(spec.imageKey());
        assertThat(otherMirror.baseKey()).isNotEqualTo(spec.baseKey());
        assertThat(ImageSpec.bookworm("http://deb.debian.org/debian", dir).imageKey()).isEqualTo(spec.imageKey());
    }

    @Test
    void imageKey_coversTheScriptsAndTheBuilderCode(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("release"), "JAVA_VERSION=\"25\"\n");

        assertThat(ImageSpec.bookworm("http://deb.debian.org/debian", dir).imageInputs().names())
                .contains("dom0-init.sh", "guest-init.sh", "ImageBuilder.class", "GuestInitramfs.class", "base",
                        "jdk-release", "java-modules");
    }
}
