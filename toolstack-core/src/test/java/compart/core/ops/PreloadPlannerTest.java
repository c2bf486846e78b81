package compart.core.ops;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.model.Inventory;
import compart.core.model.PoolDefinition;
import compart.core.model.QubeClass;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What {@link PreloadPlanner} decides for a disposable template {@code dvm} (memory 400 MiB) from its maximum, its
 * recorded preloads and the available memory: no hypervisor, no storage.
 */
class PreloadPlannerTest {
    static final long MIB = 1024 * 1024;
    static final long PLENTY = 64_000 * MIB;
    final Random random = new Random(7);

    /** fedora (TemplateVM), dvm (its disposable template, 400 MiB) and its disposables {@code disposables}. */
    Inventory inventory(String... disposables) {
        var inv = Inventory.initial(List.of(new PoolDefinition("varlibqubes", "file-reflink", Map.of("dir_path",
                "/nonexistent"))), 16384)
                .withNewQube(QubeClass.TemplateVM, "fedora", "black", Optional.empty(), random)
                .withNewQube(QubeClass.AppVM, "dvm", "red", Optional.of("fedora"), random)
                .withProperty("dvm", "template_for_dispvms", "True")
                .withProperty("dvm", "memory", "400");
        for (String d : disposables) {
            inv = inv.withNewQube(QubeClass.DispVM, d, "red", Optional.of("dvm"), random);
        }
        return inv;
    }

    static Inventory with(Inventory inv, String qube, String feature, String value) {
        return inv.withFeature(qube, feature, value);
    }

    PreloadPlanner.Plan plan(Inventory inv, long available) {
        return PreloadPlanner.plan(inv, inv.qube("dvm"), available);
    }

    @Test
    void belowTheMaximum_makesTheDifference() {
        var inv = with(with(inventory("disp1"), "dvm", "preload-dispvm-max", "3"), "dvm", "preload-dispvm", "disp1");

        assertThat(plan(inv, PLENTY)).isEqualTo(new PreloadPlanner.Plan(List.of("disp1"), List.of(), 2, 0));
    }

    @Test
    void aboveTheMaximum_removesTheNewest() {
        var inv = with(with(inventory("disp1", "disp2", "disp3"), "dvm", "preload-dispvm-max", "1"), "dvm",
                "preload-dispvm", "disp2 disp1 disp3");

        assertThat(plan(inv, PLENTY)).isEqualTo(new PreloadPlanner.Plan(List.of("disp2"), List.of("disp1", "disp3"),
                0, 0));
    }

    @Test
    void namesOfQubesThatAreGone_areDropped_andReplaced() {
        var inv = with(with(inventory("disp1"), "dvm", "preload-dispvm-max", "2"), "dvm", "preload-dispvm",
                "disp9 disp1");

        assertThat(plan(inv, PLENTY)).isEqualTo(new PreloadPlanner.Plan(List.of("disp1"), List.of(), 1, 0));
    }

    @Test
    void theAvailableMemory_lessDom0sThreshold_capsTheNumber_atTheTemplatesMemoryEach() {
        var inv = with(inventory(), "dvm", "preload-dispvm-max", "5");

        assertThat(plan(inv, 1000 * MIB)).isEqualTo(new PreloadPlanner.Plan(List.of(), List.of(), 2, 3));
        assertThat(plan(inv, 399 * MIB).create()).isZero();
        assertThat(plan(inv, -500 * MIB).create()).isZero();

        var threshold = with(inv, "dom0", "preload-dispvm-threshold", "500");
        assertThat(plan(threshold, 1000 * MIB).create()).isEqualTo(1);
    }

    @Test
    void notADisposableTemplate_wantsNone() {
        var inv = with(inventory(), "dvm", "preload-dispvm-max", "2").withProperty("dvm", "template_for_dispvms",
                "False");

        assertThat(PreloadPlanner.max(inv, inv.qube("dvm"))).isZero();
        assertThat(plan(inv, PLENTY).create()).isZero();
    }

    @Test
    void dom0sMaximum_countsForTheGlobalDefaultDispvmOnly() {
        var inv = with(with(inventory(), "dvm", "preload-dispvm-max", "3"), "dom0", "preload-dispvm-max", "1");

        assertThat(PreloadPlanner.max(inv, inv.qube("dvm"))).isEqualTo(3);
        inv = inv.withGlobalProperty("default_dispvm", "dvm");
        assertThat(PreloadPlanner.max(inv, inv.qube("dvm"))).isEqualTo(1);
        inv = inv.withFeature("dom0", "preload-dispvm-max", "");
        assertThat(PreloadPlanner.max(inv, inv.qube("dvm"))).isZero();
    }

    @Test
    void theDelay_isTheTemplatesElseDom0sElseThreeSeconds() {
        var inv = inventory();
        assertThat(PreloadPlanner.delay(inv, inv.qube("dvm"))).isEqualTo(3.0);
        inv = with(inv, "dom0", "preload-dispvm-delay", "1.5");
        assertThat(PreloadPlanner.delay(inv, inv.qube("dvm"))).isEqualTo(1.5);
        inv = with(inv, "dvm", "preload-dispvm-delay", "-1");
        assertThat(PreloadPlanner.delay(inv, inv.qube("dvm"))).isEqualTo(-1.0);
    }

    @Test
    void stale_areThoseInterrupted_andCompletedOnesWithoutADomain() {
        var inv = inventory("disp1", "disp2", "disp3", "disp4");
        inv = with(inv, "disp1", "preload-dispvm-in-progress", "1");
        inv = with(inv, "disp2", "preload-dispvm-completed", "1");
        inv = with(with(inv, "disp3", "preload-dispvm-completed", "1"), "disp3", "preload-dispvm-in-progress", "");

        var stale = PreloadPlanner.stale(inv, inv.qube("dvm"), name -> name.equals("disp3"));

        assertThat(stale).containsExactly("disp1", "disp2");
    }
}
