package compart.core.ops;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.model.Inventory;
import compart.core.model.PoolDefinition;
import compart.core.model.QubeClass;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The events of a change of the inventory, as Qubes fires them from its model. */
class InventoryChangesTest {
    private final Random random = new Random(1);
    private final Inventory base = Inventory.initial(List.of(new PoolDefinition("varlibqubes", "file",
            Map.of("dir_path", "/var/lib/qubes"))), 8192)
            .withNewQube(QubeClass.TemplateVM, "fedora", "black", Optional.empty(), random)
            .withNewQube(QubeClass.AppVM, "work", "blue", Optional.of("fedora"), random);

    private static QubeEvent event(String subject, String name, String... kwargs) {
        var m = new LinkedHashMap<String, String>();
        for (int i = 0; i < kwargs.length; i += 2) {
            m.put(kwargs[i], kwargs[i + 1]);
        }
        return new QubeEvent(subject, name, m);
    }

    @Test
    void noChange_noEvents() {
        assertThat(InventoryChanges.between(base, base)).isEmpty();
        assertThat(InventoryChanges.between(base, base.withLabel("pink", "0xff00ff"))).isEmpty();
    }

    @Test
    void propertySet_givesPropertySet_withNameAndTheStoredValue() {
        var after = base.withProperty("work", "memory", "800");
        assertThat(InventoryChanges.between(base, after))
                .containsExactly(event("work", "property-set:memory", "name", "memory", "newvalue", "800"));
        assertThat(InventoryChanges.between(base, after).getFirst().kwargs().keySet())
                .containsExactly("name", "newvalue");
    }

    @Test
    void propertyReset_givesPropertyReset_onlyWhenItWasSet() {
        var set = base.withProperty("work", "memory", "800");
        assertThat(InventoryChanges.between(set, set.withPropertyReset("work", "memory")))
                .containsExactly(event("work", "property-reset:memory", "name", "memory"));
        assertThat(InventoryChanges.between(base, base.withPropertyReset("work", "memory"))).isEmpty();
    }

    @Test
    void globalProperty_setAndReset_haveNoSubject() {
        var set = base.withGlobalProperty("default_template", "fedora");
        assertThat(InventoryChanges.between(base, set)).containsExactly(
                event("", "property-set:default_template", "name", "default_template", "newvalue", "fedora"));
        assertThat(InventoryChanges.between(set, set.withGlobalPropertyReset("default_template")))
                .containsExactly(event("", "property-reset:default_template", "name", "default_template"));
    }

    @Test
    void feature_setChangedAndRemoved() {
        var set = base.withFeature("work", "os", "Linux");
        assertThat(InventoryChanges.between(base, set))
                .containsExactly(event("work", "domain-feature-set:os", "feature", "os", "value", "Linux"));
        assertThat(InventoryChanges.between(set, set.withFeature("work", "os", "BSD")))
                .containsExactly(event("work", "domain-feature-set:os", "feature", "os", "value", "BSD"));
        assertThat(InventoryChanges.between(set, set.withFeature("work", "os", null)))
                .containsExactly(event("work", "domain-feature-delete:os", "feature", "os"));
    }

    @Test
    void tag_addedAndDeleted() {
        var tagged = base.withTag("work", "audited", true);
        assertThat(InventoryChanges.between(base, tagged))
                .containsExactly(event("work", "domain-tag-add:audited", "tag", "audited"));
        assertThat(InventoryChanges.between(tagged, base))
                .containsExactly(event("work", "domain-tag-delete:audited", "tag", "audited"));
    }

    @Test
    void firewall_changed() {
        var after = base.withQube(base.qube("work").withFirewall(List.of("action=drop")));
        assertThat(InventoryChanges.between(base, after)).containsExactly(event("work", "firewall-changed"));
    }

    @Test
    void qubeAddedAndRemoved_domainAddAndDomainDelete_withoutItsProperties() {
        var added = base.withNewQube(QubeClass.AppVM, "new", "red", Optional.of("fedora"), random)
                .withProperty("new", "memory", "800");
        assertThat(InventoryChanges.between(base, added)).containsExactly(event("", "domain-add", "vm", "new"));
        assertThat(InventoryChanges.between(added, base)).containsExactly(event("", "domain-delete", "vm", "new"));
    }

    @Test
    void severalChanges_globalsFirst_thenQubesByName() {
        var after = base.withFeature("work", "x", "1").withGlobalProperty("default_template", "fedora")
                .withTag("fedora", "t", true);
        assertThat(InventoryChanges.between(base, after)).extracting(QubeEvent::name).containsExactly(
                "property-set:default_template", "domain-tag-add:t", "domain-feature-set:x");
    }
}
