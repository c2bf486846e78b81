package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.ops.QubeEvent;
import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The events of {@code admin.Events} fire where the inventory changes, so an Admin API call and any other path
 * (disposables, a direct change) publish the same ones, each once, before the call's reply.
 */
class EventsFromTheChangePathTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(8192)
            .withTemplate("fedora", "black")
            .withAppVm("work", "fedora", "blue");
    final Wire admin = compartd.admin();
    final List<QubeEvent> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void listen() {
        compartd.toolstack().events().subscribe(events::add);
    }

    private List<QubeEvent> after(String method, String arg, String dest, String payload) throws Exception {
        events.clear();
        admin.ok(method, arg, dest, payload);
        return List.copyOf(events);
    }

    @Test
    void propertySetAndReset_ofAQube_andGlobal() throws Exception {
        assertThat(after("admin.vm.property.Set", "memory", "work", "800")).containsExactly(
                new QubeEvent("work", "property-set:memory", Map.of("name", "memory", "newvalue", "800")));
        assertThat(after("admin.vm.property.Reset", "memory", "work", "")).containsExactly(
                new QubeEvent("work", "property-reset:memory", Map.of("name", "memory")));
        assertThat(after("admin.property.Set", "default_template", "dom0", "fedora")).containsExactly(
                new QubeEvent("", "property-set:default_template", Map.of("name", "default_template",
                        "newvalue", "fedora")));
    }

    @Test
    void featuresTagsAndFirewall() throws Exception {
        assertThat(after("admin.vm.feature.Set", "os", "work", "Linux")).containsExactly(
                new QubeEvent("work", "domain-feature-set:os", Map.of("feature", "os", "value", "Linux")));
        assertThat(after("admin.vm.feature.Remove", "os", "work", "")).containsExactly(
                new QubeEvent("work", "domain-feature-delete:os", Map.of("feature", "os")));
        assertThat(after("admin.vm.tag.Set", "audited", "work", "")).containsExactly(
                new QubeEvent("work", "domain-tag-add:audited", Map.of("tag", "audited")));
        assertThat(after("admin.vm.tag.Remove", "audited", "work", "")).containsExactly(
                new QubeEvent("work", "domain-tag-delete:audited", Map.of("tag", "audited")));
        assertThat(after("admin.vm.firewall.Set", "", "work", "action=drop")).containsExactly(
                new QubeEvent("work", "firewall-changed", Map.of()));
        assertThat(after("admin.vm.firewall.Reload", "", "work", "")).containsExactly(
                new QubeEvent("work", "firewall-changed", Map.of()));
    }

    @Test
    void createAndRemove_domainAddAndDomainDelete_once() throws Exception {
        assertThat(after("admin.vm.Create.AppVM", "fedora", "dom0", "name=new label=red"))
                .containsExactly(new QubeEvent("", "domain-add", Map.of("vm", "new")));
        assertThat(after("admin.vm.Remove", "", "new", ""))
                .containsExactly(new QubeEvent("", "domain-delete", Map.of("vm", "new")));
    }

    @Test
    void otherPaths_publishToo_aDisposableOnce_aDirectChange() throws Exception {
        admin.ok("admin.vm.property.Set", "template_for_dispvms", "work", "True");
        events.clear();
        var disposable = compartd.toolstack().disposables().create("work", "dom0");
        assertThat(events).containsExactly(new QubeEvent("", "domain-add", Map.of("vm", disposable.name())));
        events.clear();
        compartd.toolstack().change(inv -> inv.withFeature("work", "x", "1"));
        assertThat(events).containsExactly(
                new QubeEvent("work", "domain-feature-set:x", Map.of("feature", "x", "value", "1")));
    }
}
