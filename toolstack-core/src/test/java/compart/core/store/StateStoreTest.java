package compart.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.core.model.Inventory;
import compart.core.model.PoolDefinition;
import compart.core.model.QubeClass;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StateStoreTest {
    @TempDir
    Path dir;

    static Inventory initial() {
        return Inventory.initial(List.of(new PoolDefinition("varlibqubes", "file-reflink", Map.of("dir_path", "/var/lib/qubes")),
                new PoolDefinition("linux-kernel", "linux-kernel", Map.of())), 8192);
    }

    static Inventory sample() {
        var r = new Random(1);
        var inv = initial().withNewQube(QubeClass.TemplateVM, "fedora", "black", Optional.empty(), r)
                .withGlobalProperty("default_template", "fedora")
                .withNewQube(QubeClass.AppVM, "work", "blue", Optional.empty(), r)
                .withProperty("work", "memory", "1234").withFeature("work", "os", "Linux")
                .withTag("work", "audited", true);
        return inv;
    }

    static final class Crash extends RuntimeException {
        Crash(String step) {
            super("simulated crash at " + step);
        }
    }

    @AfterEach
    void noCrashes() {
        AtomicFiles.crashPoint = step -> { };
    }

    /** @return a store in {@code dir}, loaded from the initial inventory, that has then saved {@code inv} */
    StateStore storing(Inventory inv) {
        var store = new StateStore(dir);
        store.load(initial());
        store.save(initial(), inv);
        return store;
    }

    @Test
    void fresh_directory_getsTheInitialInventory_andKeepsItOnDisk() {
        var loaded = new StateStore(dir).load(initial());
        assertThat(loaded.fresh()).isTrue();
        assertThat(Files.exists(dir.resolve("system.json"))).isTrue();
        assertThat(Files.exists(dir.resolve("qubes/dom0.json"))).isTrue();
        var again = new StateStore(dir).load(initial());
        assertThat(again.fresh()).isFalse();
        assertThat(again.inventory()).isEqualTo(initial());
    }

    @Test
    void save_thenLoad_roundTripsEverything() {
        var inv = sample();
        var store = storing(inv);
        var loaded = new StateStore(dir).load(initial());
        assertThat(loaded.inventory()).isEqualTo(inv);
        assertThat(loaded.broken()).isEmpty();
        assertThat(loaded.repairs()).isEmpty();
    }

    @Test
    void removal_deletesTheFileAndItsBackup() throws Exception {
        var inv = sample();
        var store = storing(inv);
        store.save(inv, inv.withProperty("work", "memory", "999"));
        assertThat(Files.exists(dir.resolve("qubes/work.json.bak"))).isTrue();
        var after = inv.withProperty("work", "memory", "999");
        store.save(after, after.withoutQube("work"));
        assertThat(Files.list(dir.resolve("qubes")).map(p -> p.getFileName().toString()))
                .noneMatch(n -> n.startsWith("work"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"temp-created", "temp-synced", "backup-removed", "backup-made", "renamed"})
    void crash_atAnyStepOfAWrite_leavesEitherTheOldOrTheNewQube(String step) throws Exception {
        var before = sample();
        var store = storing(before);
        store.save(before, before.withProperty("work", "memory", "1500")); // there is a backup now
        var old = before.withProperty("work", "memory", "1500");
        var changed = old.withProperty("work", "memory", "2000");
        AtomicFiles.crashPoint = s -> {
            if (s.equals(step)) {
                throw new Crash(s);
            }
        };
        assertThatThrownBy(() -> store.save(old, changed)).isInstanceOf(Crash.class);
        AtomicFiles.crashPoint = s -> { };
        var loaded = new StateStore(dir).load(initial());
        assertThat(loaded.broken()).isEmpty();
        assertThat(loaded.inventory()).isIn(old, changed);
        assertThat(Files.list(dir.resolve("qubes")).map(p -> p.getFileName().toString()))
                .noneMatch(n -> n.startsWith(AtomicFiles.TEMP));
    }

    @Test
    void crash_duringRemoval_leavesTheQubeOrNothing_neverAStrayBackup() {
        var inv = sample();
        var store = storing(inv);
        store.save(inv, inv.withProperty("work", "memory", "1500"));
        var old = inv.withProperty("work", "memory", "1500");
        AtomicFiles.crashPoint = s -> {
            if (s.equals("deleted")) {
                throw new Crash(s);
            }
        };
        assertThatThrownBy(() -> store.save(old, old.withoutQube("work"))).isInstanceOf(Crash.class);
        AtomicFiles.crashPoint = s -> { };
        var loaded = new StateStore(dir).load(initial());
        assertThat(loaded.inventory()).isEqualTo(old.withoutQube("work"));
        assertThat(Files.exists(dir.resolve("qubes/work.json.bak"))).isFalse();
    }

    @Test
    void corruptEntry_isReplacedByItsBackup() throws Exception {
        var inv = sample();
        var store = storing(inv);
        var next = inv.withProperty("work", "memory", "2000");
        store.save(inv, next);
        Files.writeString(dir.resolve("qubes/work.json"), "{\"format\":1,\"name\":\"wo"); // torn write
        var loaded = new StateStore(dir).load(initial());
        assertThat(loaded.inventory().value(loaded.inventory().qube("work"), "memory")).contains("1234");
        assertThat(loaded.repairs()).anyMatch(r -> r.contains("backup"));
    }

    @Test
    void oneUnreadableQube_isReportedBroken_andTheOthersLoad() throws Exception {
        var inv = sample().withNewQube(QubeClass.AppVM, "other", "red", Optional.empty(), new Random(3));
        var store = storing(inv);
        Files.writeString(dir.resolve("qubes/work.json"), "garbage");
        Files.deleteIfExists(dir.resolve("qubes/work.json.bak"));
        var loaded = new StateStore(dir).load(initial());
        assertThat(loaded.broken()).extracting(StateStore.BrokenEntry::name).containsExactly("work");
        assertThat(loaded.inventory().qubes()).containsKeys("dom0", "fedora", "other").doesNotContainKey("work");
        assertThat(Files.readString(dir.resolve("qubes/work.json"))).isEqualTo("garbage"); // kept for the user
    }

    @Test
    void danglingReference_isResetAtLoad() throws Exception {
        var inv = sample();
        var store = storing(inv);
        // fedora's entry vanishes (a restore of an old backup, a user's rm): work loses its template
        Files.delete(dir.resolve("qubes/fedora.json"));
        var loaded = new StateStore(dir).load(initial());
        assertThat(loaded.inventory().violations()).isEmpty();
        assertThat(loaded.inventory().find("work")).isEmpty();
        assertThat(loaded.broken()).extracting(StateStore.BrokenEntry::name).containsExactly("work");
        assertThat(Files.exists(dir.resolve("qubes/work.json"))).as("kept for the user").isTrue();
        assertThat(loaded.inventory().globals()).doesNotContainKey("default_template");
        assertThat(loaded.repairs()).isNotEmpty();
    }
}
