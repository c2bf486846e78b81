package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.ops.QubeEvent;
import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The events of {@code admin.Events} fire where the inventory changes, so an Admin API call and any other path
 * (disposables, a direct change) publish the same ones, each once, before the call's reply.
 */
class EventsFromTheChangePathTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(8192).withFedoraAndWork();
    final Wire admin = compartd.admin();
    final List<QubeEvent> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void listen() {
        compartd.toolstack().events().subscribe(events::add);
    }

    /** @return {@code SUBJECT NAME K=V,K=V}, the kwargs in order */
    static String text(QubeEvent e) {
        var kwargs = new StringBuilder();
        e.kwargs().forEach((k, v) -> kwargs.append(kwargs.isEmpty() ? "" : ",").append(k).append('=').append(v));
        return (e.subject() + " " + e.name() + " " + kwargs).strip();
    }

    /** Each row: method; arg; dest; payload; the value set first (to reset or remove); the one event. */
    @ParameterizedTest(name = "{0}+{1} {2}")
    @CsvSource(delimiter = ';', textBlock = """
            admin.vm.property.Set; memory; work; 800; ; work property-set:memory name=memory,newvalue=800
            admin.vm.property.Reset; memory; work; ; 800; work property-reset:memory name=memory
            admin.property.Set; default_template; dom0; fedora; ; \
              property-set:default_template name=default_template,newvalue=fedora
            admin.property.Reset; default_template; dom0; ; fedora; \
              property-reset:default_template name=default_template
            admin.vm.feature.Set; os; work; Linux; ; work domain-feature-set:os feature=os,value=Linux
            admin.vm.feature.Remove; os; work; ; Linux; work domain-feature-delete:os feature=os
            admin.vm.tag.Set; audited; work; ; ; work domain-tag-add:audited tag=audited
            admin.vm.tag.Remove; created-by-dom0; work; ; ; work domain-tag-delete:created-by-dom0 tag=created-by-dom0
            admin.vm.firewall.Set; ; work; action=drop; ; work firewall-changed
            admin.vm.firewall.Reload; ; work; ; ; work firewall-changed
            admin.vm.Create.AppVM; fedora; dom0; name=new label=red; ; domain-add vm=new
            """)
    void adminApiChange_publishesItsEventOnce(String method, String arg, String dest, String payload, String setFirst,
                                               String expected) throws Exception {
        String a = arg == null ? "" : arg;
        if (setFirst != null) {
            admin.ok(method.replace("Reset", "Set").replace("Remove", "Set"), a, dest, setFirst);
        }
        events.clear();
        admin.ok(method, a, dest, payload == null ? "" : payload);
        assertThat(events).extracting(EventsFromTheChangePathTest::text).containsExactly(expected);
    }

    @Test
    void remove_publishesDomainDeleteOnce() throws Exception {
        admin.ok("admin.vm.Create.AppVM", "fedora", "dom0", "name=new label=red");
        events.clear();
        admin.ok("admin.vm.Remove", "", "new", "");
        assertThat(events).extracting(EventsFromTheChangePathTest::text).containsExactly("domain-delete vm=new");
    }

    @Test
    void otherPaths_publishToo_aDisposableOnce_aDirectChange() throws Exception {
        admin.ok("admin.vm.property.Set", "template_for_dispvms", "work", "True");
        events.clear();
        var disposable = compartd.toolstack().disposables().create("work", "dom0");
        assertThat(events).extracting(EventsFromTheChangePathTest::text)
                .containsExactly("domain-add vm=" + disposable.name());
        events.clear();
        compartd.toolstack().change(inv -> inv.withFeature("work", "x", "1"));
        var kwargs = new LinkedHashMap<String, String>();
        kwargs.put("feature", "x");
        kwargs.put("value", "1");
        assertThat(events).containsExactly(new QubeEvent("work", "domain-feature-set:x", kwargs));
    }
}
