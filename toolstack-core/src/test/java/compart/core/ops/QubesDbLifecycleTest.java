package compart.core.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import compart.core.hypervisor.HypervisorEvent;
import compart.core.hypervisor.test.TestHypervisor;
import compart.core.qubesdb.QubesDbServer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each running qube's QubesDB through the toolstack (on the simulated hypervisor: filled and kept in dom0, not
 * served): filled before unpause, updated by inventory changes without restarting anything, gone with the domain.
 */
class QubesDbLifecycleTest {
    @TempDir
    Path dir;

    /** fedora (TemplateVM), sys-net (net qube) and work (netvm sys-net). */
    private Toolstack toolstack(TestHypervisor hv) {
        return FilePoolToolstack.withNetwork(dir, hv, new Random(7));
    }

    private static Map<String, String> db(Toolstack ts, String qube) {
        return ts.qubesdb().server(qube).<Map<String, String>>map(s -> s.db().snapshot()).orElse(Map.of());
    }

    @Test
    void theStartPlan_fillsTheQubesDbAfterCreatingThePausedDomain_andBeforeUnpausing() {
        var ts = toolstack(new TestHypervisor(4096, 2));
        var steps = StartPlanner.plan(ts.inventory(), "work", ts::powerState, false);
        var kinds = steps.stream().map(s -> s.getClass().getSimpleName()).toList();
        assertThat(kinds.subList(kinds.indexOf("CreatePaused"), kinds.size()))
                .containsExactly("CreatePaused", "FillQubesDb", "Unpause");
    }

    @Test
    void aStartedQube_hasItsEntriesWhenItIsUnpaused_andItsNetQubeKnowsItsFirewall() {
        var hv = new TestHypervisor(4096, 2);
        var ts = toolstack(hv);
        var atUnpause = new ConcurrentHashMap<String, String>();
        hv.subscribe(e -> {
            if (e instanceof HypervisorEvent.Unpaused u) {
                ts.qubesdb().server(u.name()).flatMap(s -> s.db().read("/name"))
                        .ifPresent(n -> atUnpause.put(u.name(), n));
            }
        });
        ts.start("work").join();

        assertThat(atUnpause).containsEntry("sys-net", "sys-net").containsEntry("work", "work");
        assertThat(hv.guestWritableNodes("work")).containsExactly("memory/meminfo");
        var work = ts.inventory().qube("work");
        String ip = ts.inventory().value(work, "ip").orElseThrow();
        assertThat(db(ts, "work")).contains(entry("/qubes-ip", ts.inventory().value(work, "visible_ip")
                .orElseThrow()), entry("/qubes-gateway", ts.inventory().value(work, "visible_gateway").orElseThrow()))
                .containsKey("/qubes-random-seed");
        assertThat(db(ts, "sys-net")).contains(entry("/connected-ips", ip),
                entry("/qubes-firewall/" + ip + "/policy", "drop"),
                entry("/qubes-firewall/" + ip + "/0000", "action=accept"), entry("/qubes-firewall/" + ip, ""));
    }

    @Test
    void aServiceFeature_setThenRemovedAtRuntime_appearsThenGoes_withoutRestartingAnything() {
        var ts = toolstack(new TestHypervisor(4096, 2));
        ts.start("work").join();
        QubesDbServer before = ts.qubesdb().server("work").orElseThrow();
        ts.change(i -> i.withFeature("work", "service.cups", "1"));
        assertThat(db(ts, "work")).contains(entry("/qubes-service/cups", "1"));
        ts.change(i -> i.withFeature("work", "service.cups", null));
        assertThat(db(ts, "work")).doesNotContainKey("/qubes-service/cups");
        assertThat(ts.qubesdb().server("work")).containsSame(before);
    }

    @Test
    void aQubeWithoutMemoryBalancing_getsNoMeminfoNode_andItsMeminfoWriterServiceIsOff() {
        var hv = new TestHypervisor(4096, 2);
        var ts = toolstack(hv);
        ts.change(i -> i.withProperty("work", "maxmem", "0"));
        ts.start("work").join();
        assertThat(hv.guestWritableNodes("work")).isEmpty();
        assertThat(db(ts, "work")).contains(entry("/qubes-service/meminfo-writer", "0"));
    }

    @Test
    void changedFirewallRules_reachTheNetQube() {
        var ts = toolstack(new TestHypervisor(4096, 2));
        ts.start("work").join();
        String ip = ts.inventory().value(ts.inventory().qube("work"), "ip").orElseThrow();
        ts.change(i -> i.withQube(i.qube("work").withFirewall(List.of("action=accept specialtarget=dns",
                "action=drop"))));
        assertThat(db(ts, "sys-net")).contains(entry("/qubes-firewall/" + ip + "/0000",
                "action=accept specialtarget=dns"), entry("/qubes-firewall/" + ip + "/0001", "action=drop"));
    }

    @Test
    void aClientThatStops_leavesItsFirewallInItsNetQube_asQubesdDoes_andItsOwnDatabaseGoes() {
        var ts = toolstack(new TestHypervisor(4096, 2));
        ts.start("work").join();
        String ip = ts.inventory().value(ts.inventory().qube("work"), "ip").orElseThrow();
        ts.kill("work").join();
        assertThat(ts.qubesdb().server("work")).isEmpty();
        assertThat(db(ts, "sys-net")).containsKey("/qubes-firewall/" + ip + "/policy");
    }

    @Test
    void aNetvmChange_rewritesTheClientsNetwork() {
        var ts = toolstack(new TestHypervisor(4096, 2));
        ts.start("work").join();
        ts.change(i -> i.withProperty("work", "netvm", ""));
        assertThat(db(ts, "work")).doesNotContainKeys("/qubes-ip", "/qubes-gateway");
        assertThat(db(ts, "sys-net")).contains(entry("/connected-ips", ""));
    }
}
