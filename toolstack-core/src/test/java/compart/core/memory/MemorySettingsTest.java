package compart.core.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemorySettingsTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void aMissingFileMeansQubesDefaults() {
        assertThat(MemorySettings.read(dir.resolve("memory.conf"))).isEqualTo(MemorySettings.QUBES_DEFAULTS);
        assertThat(MemorySettings.QUBES_DEFAULTS).isEqualTo(new MemorySettings(200 * MIB, 350 * MIB, 1.3));
    }

    @Test
    void qmemmanConfKeysAreReadWithTheirSuffixes() throws Exception {
        Path f = dir.resolve("memory.conf");
        Files.writeString(f, """
                # ours
                [global]
                vm-min-mem = 300M
                dom0-mem-boost = 1G
                cache-margin-factor = 1.5
                log-level = 30
                """);
        assertThat(MemorySettings.read(f)).isEqualTo(new MemorySettings(300 * MIB, 1024 * MIB, 1.5));
    }

    @Test
    void unknownKeysAndBadValuesAreRefusedNamingTheLine() {
        assertThatThrownBy(() -> MemorySettings.parse("vm-max-mem = 1G", "f")).hasMessageContaining("f line 1")
                .hasMessageContaining("unknown key 'vm-max-mem'");
        assertThatThrownBy(() -> MemorySettings.parse("\nvm-min-mem = lots", "f")).hasMessageContaining("f line 2");
        assertThatThrownBy(() -> MemorySettings.parse("cache-margin-factor = 0.5", "f"))
                .hasMessageContaining("cache-margin-factor");
    }

    @Test
    void aLargerCacheMarginRaisesEveryPreference() {
        var d = new DomainMemory(5, OptionalLong.of(1000 * MIB), 4000 * MIB, 1000 * MIB, false);
        assertThat(new Balancing(new MemorySettings(200 * MIB, 350 * MIB, 2.0)).prefMem(d)).isEqualTo(2000 * MIB);
    }
}
