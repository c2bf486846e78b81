package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.ops.QubeEvent;
import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Preloaded disposables (Qubes 4.3) on a compartd with the simulated hypervisor: {@code preload-dispvm-max} on the
 * disposable template {@code dvm-tpl} keeps that many of its disposables started and paused, listed in its
 * {@code preload-dispvm}; {@code admin.vm.CreateDisposable} (the call {@code qvm-run --dispvm} makes) hands the
 * oldest out and the queue refills; the number follows the maximum and the available memory; a daemon restart
 * replaces the preloads whose domains are gone.
 *
 * <p>The template's template {@code fedora} says its qubes run qrexec and Qubes' readiness service, as Qubes
 * requires before it accepts a maximum; {@code preload-dispvm-delay} 0 refills at once after a use.
 */
class PreloadedDisposablesTest {
    static final String TEMPLATE = "dvm-tpl";

    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(16384).withDisposableTemplate();
    final Wire admin = compartd.admin();
    final List<QubeEvent> events = new CopyOnWriteArrayList<>();
    AutoCloseable listening;

    @BeforeEach
    void aTemplateThatCanPreload() throws Exception {
        admin.ok("admin.vm.feature.Set", "qrexec", "fedora", "1");
        admin.ok("admin.vm.feature.Set", "supported-rpc.qubes.WaitForRunningSystem", "fedora", "1");
        admin.ok("admin.vm.feature.Set", "preload-dispvm-delay", TEMPLATE, "0");
        admin.ok("admin.vm.property.Set", "memory", TEMPLATE, "400");
        listening = compartd.toolstack().events().subscribe(events::add);
    }

    @AfterEach
    void stopListening() throws Exception {
        listening.close();
    }

    List<String> preloads() throws IOException {
        String r = admin.call("admin.vm.feature.Get", "preload-dispvm", TEMPLATE, "");
        return !r.startsWith("0|") || r.length() == 2 ? List.of() : List.of(r.substring(2).split(" "));
    }

    String state(String qube) throws IOException {
        String s = admin.ok("admin.vm.CurrentState", "", qube, "");
        return s.substring(s.indexOf("power_state=") + "power_state=".length());
    }

    List<String> disposables() throws IOException {
        return Arrays.stream(admin.ok("admin.vm.List", "", "dom0", "").split("\n"))
                .map(l -> l.split(" ")[0]).filter(n -> n.matches("disp[0-9]+")).toList();
    }

    /** @return whether the queue holds {@code n} preloads, all ready: paused and marked completed */
    boolean settledAt(int n) throws IOException {
        var list = preloads();
        if (list.size() != n) {
            return false;
        }
        for (String d : list) {
            if (!state(d).equals("Paused")
                    || !admin.call("admin.vm.feature.Get", "preload-dispvm-completed", d, "").equals("0|1")) {
                return false;
            }
        }
        return true;
    }

    /** Sets the template's {@code preload-dispvm-max} to {@code n} and waits until {@code n} preloads are ready. */
    void preloaded(int n) throws Exception {
        admin.ok("admin.vm.feature.Set", "preload-dispvm-max", TEMPLATE, Integer.toString(n));
        eventually(n + " preloads ready", () -> settledAt(n));
    }

    interface Check {
        boolean holds() throws Exception;
    }

    /** Waits (up to 20 s) until {@code check} holds; fails with {@code what} otherwise. */
    static void eventually(String what, Check check) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    List<QubeEvent> eventsNamed(String name) {
        return events.stream().filter(e -> e.name().equals(name)).toList();
    }

    @Test
    void settingTheMaximum_preloadsThatMany_startedPausedMarkedAndListed() throws Exception {
        admin.ok("admin.vm.feature.Set", "preload-dispvm-max", TEMPLATE, "2");

        eventually("two paused preloads", () -> settledAt(2));
        for (String d : preloads()) {
            assertThat(admin.property(d, "klass")).isEqualTo("DispVM");
            assertThat(admin.property(d, "template")).isEqualTo(TEMPLATE);
            assertThat(admin.property(d, "auto_cleanup")).isEqualTo("True");
            assertThat(admin.property(d, "is_preload")).isEqualTo("True");
            assertThat(admin.ok("admin.vm.feature.Get", "internal", d, "")).isEqualTo("1");
            assertThat(admin.ok("admin.vm.feature.Get", "preload-dispvm-completed", d, "")).isEqualTo("1");
            assertThat(admin.ok("admin.vm.feature.Get", "preload-dispvm-in-progress", d, "")).isEmpty();
            assertThat(admin.ok("admin.vm.tag.List", "", d, "")).doesNotContain("disp-created-by-");
        }
        assertThat(disposables()).containsExactlyInAnyOrderElementsOf(preloads());
        assertThat(eventsNamed("domain-preload-dispvm-start")).first().satisfies(e -> {
            assertThat(e.subject()).isEqualTo(TEMPLATE);
            assertThat(e.kwargs()).containsEntry("reason", "local feature was set to '2'");
        });
    }

    @Test
    void createDisposable_handsOutTheOldestPreload_running_taggedForTheCaller_andTheQueueRefills() throws Exception {
        preloaded(2);
        var before = preloads();

        String got = admin.ok("admin.vm.CreateDisposable", "", TEMPLATE, "");

        assertThat(got).isEqualTo(before.getFirst());
        assertThat(state(got)).isEqualTo("Running");
        assertThat(admin.property(got, "is_preload")).isEqualTo("False");
        assertThat(admin.ok("admin.vm.feature.List", "", got, "").split("\n")).doesNotContain("internal",
                "preload-dispvm-in-progress");
        assertThat(admin.ok("admin.vm.tag.List", "", got, "").split("\n"))
                .contains("created-by-dom0", "disp-created-by-dom0");
        assertThat(preloads()).doesNotContain(got);
        assertThat(eventsNamed("domain-preload-dispvm-used")).singleElement().satisfies(e -> {
            assertThat(e.subject()).isEqualTo(TEMPLATE);
            assertThat(e.kwargs()).containsEntry("dispvm", got).containsEntry("delay", "0.0");
        });
        eventually("the queue refilled to two", () -> settledAt(2));
        assertThat(preloads()).contains(before.get(1)).doesNotContain(got);
        assertThat(state(got)).isEqualTo("Running");
    }

    @Test
    void withoutPreloads_createDisposable_makesANewHaltedOne_asBefore() throws Exception {
        String got = admin.ok("admin.vm.CreateDisposable", "", TEMPLATE, "");

        assertThat(state(got)).isEqualTo("Halted");
        assertThat(admin.property(got, "is_preload")).isEqualTo("False");
        assertThat(eventsNamed("domain-preload-dispvm-used")).isEmpty();
    }

    @Test
    void aQrexecCallToDispvm_getsAPreloadedDisposable() throws Exception {
        preloaded(1);
        String preloaded = preloads().getFirst();

        String target = compartd.toolstack().disposables().startDisposable(TEMPLATE, "work");

        assertThat(target).isEqualTo(preloaded);
        handedOutAndReplaced(target, "work");
    }

    @Test
    void createDisposable_rightAfterThePreloadIsListed_getsItRunning() throws Exception {
        admin.ok("admin.vm.feature.Set", "preload-dispvm-max", TEMPLATE, "1");
        eventually("a preload listed", () -> preloads().size() == 1);
        String listed = preloads().getFirst();

        String got = admin.ok("admin.vm.CreateDisposable", "", TEMPLATE, "");

        assertThat(got).isEqualTo(listed);
        handedOutAndReplaced(got, "dom0");
    }

    /** Asserts {@code qube} runs, tagged for {@code caller}, and that a new preload takes its place in the queue. */
    void handedOutAndReplaced(String qube, String caller) throws Exception {
        assertThat(state(qube)).isEqualTo("Running");
        assertThat(admin.ok("admin.vm.tag.List", "", qube, "").split("\n")).contains("disp-created-by-" + caller);
        eventually("a new preload", () -> settledAt(1) && !preloads().contains(qube));
    }

    @Test
    void loweringTheMaximum_removesTheNewestPreloads_andZeroRemovesAll() throws Exception {
        preloaded(3);
        var three = preloads();

        admin.ok("admin.vm.feature.Set", "preload-dispvm-max", TEMPLATE, "1");

        eventually("one left", () -> preloads().size() == 1 && disposables().size() == 1);
        assertThat(preloads()).containsExactly(three.getFirst());

        admin.ok("admin.vm.feature.Set", "preload-dispvm-max", TEMPLATE, "0");

        eventually("none left", () -> preloads().isEmpty() && disposables().isEmpty());
    }

    @Test
    void removingTheMaximum_removesAllPreloads() throws Exception {
        preloaded(2);

        admin.ok("admin.vm.feature.Remove", "preload-dispvm-max", TEMPLATE, "");

        eventually("none left", () -> preloads().isEmpty() && disposables().isEmpty());
    }

    @Test
    void dom0sMaximum_isTheGlobalDefaultDispvms_andWinsOverItsOwn() throws Exception {
        preloaded(3);
        admin.ok("admin.property.Set", "default_dispvm", "dom0", TEMPLATE);

        admin.ok("admin.vm.feature.Set", "preload-dispvm-max", "dom0", "1");

        eventually("one left", () -> settledAt(1) && disposables().size() == 1);
        assertThat(eventsNamed("domain-preload-dispvm-start")).last().satisfies(e -> {
            assertThat(e.subject()).isEqualTo(TEMPLATE);
            assertThat(e.kwargs()).containsEntry("reason", "global feature was set to '1'");
        });
        admin.ok("admin.vm.feature.Remove", "preload-dispvm-max", "dom0", "");
        eventually("its own three again", () -> settledAt(3));
    }

    @Test
    void createDisposablePreload_fillsTheQueue_andAnswersWhenTheyAreReady() throws Exception {
        admin.ok("admin.vm.feature.Set", "preload-dispvm-max", TEMPLATE, "2");

        assertThat(admin.ok("admin.vm.CreateDisposable", "preload", TEMPLATE, "")).isEmpty();

        assertThat(settledAt(2)).as("two paused preloads when the call answers").isTrue();
        assertThat(eventsNamed("domain-preload-dispvm-start").stream().map(e -> e.kwargs().get("reason")))
                .contains("autostart was requested");
    }

    @Test
    void aPreloadUnpausedByHand_isUsed_andReplaced() throws Exception {
        preloaded(1);
        String first = preloads().getFirst();

        admin.ok("admin.vm.Unpause", "", first, "");

        eventually("replaced", () -> settledAt(1) && !preloads().contains(first));
        assertThat(admin.property(first, "is_preload")).isEqualTo("False");
        assertThat(admin.ok("admin.vm.feature.List", "", first, "").split("\n")).doesNotContain("internal");
    }

    @Test
    void aDisposableRemoved_leavesTheList() throws Exception {
        admin.ok("admin.vm.feature.Set", "preload-dispvm-delay", TEMPLATE, "-1");
        preloaded(2);
        String first = preloads().getFirst();

        admin.ok("admin.vm.Kill", "", first, "");

        eventually("gone from the list and the qubes", () -> !preloads().contains(first)
                && !disposables().contains(first));
    }

    @Test
    void templateForDispvmsFalse_removesThePreloadsFirst() throws Exception {
        admin.ok("admin.vm.property.Reset", "default_dispvm", "work", "");
        preloaded(2);

        admin.ok("admin.vm.property.Set", "template_for_dispvms", TEMPLATE, "False");

        assertThat(preloads()).isEmpty();
        assertThat(disposables()).isEmpty();
        admin.ok("admin.vm.property.Reset", "template_for_dispvms", TEMPLATE, "");
        admin.ok("admin.vm.property.Set", "template_for_dispvms", TEMPLATE, "True");
        eventually("refilled once it is a disposable template again", () -> settledAt(2));
    }

    @Test
    void templateForDispvmsFalse_isRefusedWhileAnotherDisposableIsBasedOnIt_andThePreloadsStay() throws Exception {
        admin.ok("admin.vm.property.Reset", "default_dispvm", "work", "");
        admin.ok("admin.vm.Create.DispVM", TEMPLATE, "dom0", "name=mine label=red");
        preloaded(1);
        var before = preloads();

        assertThat(admin.call("admin.vm.property.Set", "template_for_dispvms", TEMPLATE, "False"))
                .startsWith("2|").contains("mine");

        assertThat(preloads()).isEqualTo(before);
        assertThat(state(before.getFirst())).isEqualTo("Paused");
    }

    @Test
    void whenTheTemplateVmStops_thePreloads_whoseVolumesAreOutdated_areReplaced() throws Exception {
        preloaded(2);
        var before = preloads();
        admin.ok("admin.vm.Start", "", "fedora", "");

        admin.ok("admin.vm.Shutdown", "", "fedora", "");

        eventually("two new paused preloads", () -> settledAt(2) && disposables().size() == 2
                && preloads().stream().noneMatch(before::contains));
        assertThat(eventsNamed("domain-preload-dispvm-start").stream().map(e -> e.kwargs().get("reason")))
                .contains("of outdated volume(s)");
    }

    @Test
    void afterADaemonRestart_preloadsWhoseDomainsAreGone_areRemoved_andTheQueueRefilled() throws Exception {
        preloaded(2);
        var before = preloads();

        compartd.restart(); // the simulated domains are gone with the old daemon

        eventually("two new paused preloads", () -> settledAt(2) && disposables().size() == 2);
        assertThat(preloads()).doesNotContainAnyElementsOf(before);
        assertThat(disposables()).doesNotContainAnyElementsOf(before);
    }

    @Test
    void theNumber_isCappedByTheAvailableMemory() throws Exception {
        var small = TestDaemon.onTestHypervisor().testMemoryMib(2600).withDisposableTemplate().startedByTheTest();
        try {
            small.start();
            var a = small.admin();
            a.ok("admin.vm.feature.Set", "qrexec", "fedora", "1");
            a.ok("admin.vm.feature.Set", "supported-rpc.qubes.WaitForRunningSystem", "fedora", "1");
            a.ok("admin.vm.property.Set", "memory", TEMPLATE, "1000");

            // 2600 MiB host: about 2530 MiB available, room for two of 1000 MiB
            a.ok("admin.vm.feature.Set", "preload-dispvm-max", TEMPLATE, "5");
            a.ok("admin.vm.CreateDisposable", "preload", TEMPLATE, "");

            String list = a.ok("admin.vm.feature.Get", "preload-dispvm", TEMPLATE, "");
            assertThat(list.split(" ")).hasSize(2);
        } finally {
            small.afterEach(null); // closed, its directory removed
        }
    }

    @Test
    void dom0sThreshold_isLeftAlone() throws Exception {
        admin.ok("admin.vm.property.Set", "memory", TEMPLATE, "4000");
        // 16384 MiB host: about 16200 MiB available; less 5000 leaves room for two of 4000 MiB
        admin.ok("admin.vm.feature.Set", "preload-dispvm-threshold", "dom0", "5000");

        admin.ok("admin.vm.feature.Set", "preload-dispvm-max", TEMPLATE, "4");
        admin.ok("admin.vm.CreateDisposable", "preload", TEMPLATE, "");

        assertThat(preloads()).hasSize(2);
    }

    @Test
    void theFeatures_areCheckedAsQubesChecksThem() throws Exception {
        admin.ok("admin.vm.Create.AppVM", "fedora", "dom0", "name=bare label=red");
        admin.ok("admin.vm.property.Set", "template_for_dispvms", "bare", "True");
        admin.ok("admin.vm.feature.Set", "qrexec", "fedora", "");
        assertThat(admin.call("admin.vm.feature.Set", "preload-dispvm-max", "bare", "1"))
                .isEqualTo("2|QubesValueError||Qube does not support qrexec|");
        admin.ok("admin.vm.feature.Set", "qrexec", "fedora", "1");
        admin.ok("admin.vm.feature.Set", "supported-rpc.qubes.WaitForRunningSystem", "fedora", "");
        assertThat(admin.call("admin.vm.feature.Set", "preload-dispvm-max", "bare", "1"))
                .isEqualTo("2|QubesValueError||Qube does not support the RPC 'qubes.WaitForRunningSystem'|");
        admin.ok("admin.vm.feature.Set", "supported-rpc.qubes.WaitForRunningSystem", "fedora", "1");

        assertThat(admin.call("admin.vm.feature.Set", "preload-dispvm-max", "bare", "two"))
                .isEqualTo("2|QubesValueError||Invalid preload-dispvm-max value: not a digit|");
        assertThat(admin.call("admin.vm.feature.Set", "preload-dispvm-delay", "bare", "soon"))
                .isEqualTo("2|QubesValueError||Invalid preload-dispvm-delay value: not an integer or float|");
        assertThat(admin.call("admin.vm.feature.Set", "preload-dispvm-threshold", "dom0", "-1"))
                .isEqualTo("2|QubesValueError||Invalid preload-dispvm-threshold value: not a digit|");
        assertThat(admin.error("admin.vm.feature.Set", "preload-dispvm", TEMPLATE, "disp1"))
                .isEqualTo("PermissionDenied");
        admin.ok("admin.vm.feature.Set", "preload-dispvm-delay", "dom0", "2.5");
        admin.ok("admin.vm.feature.Set", "preload-dispvm-max", "bare", "");

        // dom0's maximum is checked against the global default_dispvm when there is one
        admin.ok("admin.property.Set", "default_dispvm", "dom0", "bare");
        assertThat(admin.call("admin.vm.feature.Set", "preload-dispvm-max", "dom0", "x"))
                .isEqualTo("2|QubesValueError||Invalid preload-dispvm-max value: not a digit|");
        var names = new ArrayList<>(List.of(admin.ok("admin.vm.feature.List", "", "dom0", "").split("\n")));
        assertThat(names).doesNotContain("preload-dispvm-max");
    }
}
