package compart.core.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.core.hypervisor.test.TestHypervisor;
import compart.core.model.Inventory;
import compart.core.model.PoolDefinition;
import compart.core.model.QubeClass;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ToolstackTest {
    @TempDir
    Path dir;

    /** fedora (TemplateVM), sys-net (net qube) and work (netvm sys-net), created with their volumes in a pool. */
    Toolstack toolstack(TestHypervisor hv) {
        return FilePoolToolstack.withNetwork(dir, hv, new Random(7));
    }

    @Test
    void startPlan_startsTheNetvmFirst_thenChecksMemoryVolumesCreatesPausedAndUnpauses() {
        var tpl = toolstack(new TestHypervisor(4096, 2));
        var steps = StartPlanner.plan(tpl.inventory(), "work", tpl::powerState, false);
        assertThat(steps).extracting(s -> s.getClass().getSimpleName())
                .containsExactly("StartNetvm", "CheckMemory", "PrepareVolumes", "CreatePaused", "FillQubesDb",
                        "Unpause");
        var create = (Step.CreatePaused) steps.get(3);
        assertThat(create.spec().type().name()).isEqualTo("PVH");
        assertThat(create.spec().nics()).singleElement().extracting(n -> n.backend()).isEqualTo("sys-net");
    }

    @Test
    void startPlan_touchesNoStorage_itsDisksNameVolumesWhoseFilesTheRunLearnsWhenItStartsThem() {
        var r = new Random(7);
        Path pool = dir.resolve("no-such-pool"); // opening this pool would create it, or fail
        var inv = Inventory.initial(List.of(new PoolDefinition("varlibqubes", "file-reflink", Map.of("dir_path",
                pool.toString()))), 0);
        inv = inv.withNewQube(QubeClass.TemplateVM, "fedora", "black", Optional.empty(), r)
                .withNewQube(QubeClass.AppVM, "work", "blue", Optional.of("fedora"), r);

        var steps = StartPlanner.plan(inv, "work", n -> PowerState.Halted, false);

        var create = (Step.CreatePaused) steps.get(2);
        assertThat(create.spec().disks()).isEmpty();
        assertThat(create.disks()).containsExactly(new DomainSpecs.DiskSlot("xvda", "root", true),
                new DomainSpecs.DiskSlot("xvdb", "private", true), new DomainSpecs.DiskSlot("xvdc", "volatile", true));
        assertThat(pool).doesNotExist();
    }

    @Test
    void startPlan_withQrexec_connectsTheAgentAfterUnpause_waitingOnlyWithTheFeatureQrexec() {
        var ts = toolstack(new TestHypervisor(4096, 2));
        var inv = ts.inventory().withProperty("work", "qrexec_timeout", "17");
        var background = StartPlanner.plan(inv, "work", ts::powerState, true);
        assertThat(background.getLast()).isEqualTo(new Step.ConnectQrexec("work", Duration.ofSeconds(17),
                false));
        assertThat(background.get(background.size() - 2)).isInstanceOf(Step.Unpause.class);

        var required = StartPlanner.plan(inv.withFeature("fedora", "qrexec", "1"), "work", ts::powerState, true);
        assertThat(required.getLast()).isEqualTo(new Step.ConnectQrexec("work", Duration.ofSeconds(17),
                true));
        assertThat(required.getLast().describe()).contains("work").contains("17 s");
        assertThat(StartPlanner.plan(inv.withFeature("work", "qrexec", ""), "work", ts::powerState, true).getLast()).isEqualTo(new Step.ConnectQrexec("work", Duration.ofSeconds(17), false));
    }

    @Test
    void startPlan_onTheTestHypervisor_hasNoQrexecStep() {
        var ts = toolstack(new TestHypervisor(4096, 2));
        assertThat(ts.qrexec()).isEmpty();
        assertThat(StartPlanner.plan(ts.inventory().withFeature("work", "qrexec", "1"), "work", ts::powerState, false))
                .noneMatch(s -> s instanceof Step.ConnectQrexec);
    }

    @Test
    void start_createsTheDomainWithTheFilesOfTheStartedVolumesAsItsDisks() {
        var hv = new TestHypervisor(4096, 2);
        var ts = toolstack(hv);
        ts.start("work").join();

        var disks = hv.specOf("work").orElseThrow().disks();
        assertThat(disks).extracting(d -> d.vdev()).containsExactly("xvda", "xvdb", "xvdc");
        assertThat(disks).allSatisfy(d -> assertThat(Path.of(d.target())).startsWith(dir.resolve("pool"))
                .exists());
        assertThat(ts.powerState("sys-net")).isEqualTo(PowerState.Running);
    }

    @Test
    void failedUnpause_destroysTheDomain_andLeavesTheQubeHalted() {
        var hv = new TestHypervisor(4096, 2);
        var ts = toolstack(hv);
        ts.start("sys-net").join();
        hv.failNext("unpause");
        assertThatThrownBy(() -> ts.start("work").join()).isInstanceOf(CompletionException.class)
                .hasMessageContaining("failed at step 'unpause work'")
                .hasMessageContaining("rolled back: fill the QubesDB of work, create domain work");
        assertThat(ts.powerState("work")).isEqualTo(PowerState.Halted);
        assertThat(ts.qubesdb().server("work")).isEmpty();
        assertThat(hv.list()).extracting(d -> d.name()).containsExactly("sys-net");
        assertThat(hv.calls()).containsSubsequence("createPaused work", "unpause work", "destroy work");
        ts.start("work").join(); // and it can start afterwards
        assertThat(ts.powerState("work")).isEqualTo(PowerState.Running);
    }

    @Test
    void notEnoughMemory_isRefusedBeforeAnyDomainIsCreated() {
        var hv = new TestHypervisor(500, 2);
        var ts = toolstack(hv);
        assertThatThrownBy(() -> ts.start("work").join()).hasMessageContaining("Not enough memory");
        assertThat(hv.calls()).doesNotContain("createPaused work");
    }

    @Test
    void shutdownWait_timesOut_whenTheGuestIgnoresIt() {
        var hv = new TestHypervisor(4096, 2);
        var ts = toolstack(hv);
        ts.change(inv -> inv.withProperty("sys-net", "shutdown_timeout", "1"));
        ts.start("sys-net").join();
        hv.ignoreShutdown("sys-net");
        assertThatThrownBy(() -> ts.shutdown("sys-net", false, true).join())
                .hasMessageContaining("shutdown timed out");
    }

    @Test
    void autoCleanupDispVm_isRemovedWhenItStops() throws Exception {
        var hv = new TestHypervisor(4096, 2);
        var ts = toolstack(hv);
        ts.change(inv -> inv.withProperty("work", "template_for_dispvms", "True"));
        ts.create("disp1", inv -> inv.withNewQube(QubeClass.DispVM, "disp1", "red", Optional.of("work"),
                new Random(1)).withProperty("disp1", "auto_cleanup", "True"));
        var deleted = new CompletableFuture<QubeEvent>();
        ts.events().subscribe(e -> {
            if (e.name().equals("domain-delete") && e.kwargs().get("vm").equals("disp1")) {
                deleted.complete(e);
            }
        });
        ts.start("disp1").join();
        ts.shutdown("disp1", false, true).join();
        // the removal is queued on disp1's queue when its death is reported: wait for its domain-delete (bounded),
        // then for the rest of that queued removal (volumes deleted) by queueing a no-op behind it, not for time
        deleted.get(30, TimeUnit.SECONDS);
        ts.removeIfPresent("disp1").join();
        assertThat(ts.inventory().find("disp1")).isEmpty();
        assertThat(volumeFilesOf("disp1")).isEmpty();
    }

    private List<Path> volumeFilesOf(String qube) throws IOException {
        try (var files = Files.walk(dir.resolve("pool"))) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> f.toString().contains("/" + qube + "/")).toList();
        }
    }
}
