package compart.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The typed property keys name properties of the catalogue, with the catalogue's types. */
class PropTest {

    /** @return every key {@link Prop} declares, by reflection (so a new key is checked without listing it here) */
    static List<Prop.Key<?>> keys() throws IllegalAccessException {
        var keys = new ArrayList<Prop.Key<?>>();
        for (Field f : Prop.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == Prop.Key.class) {
                var key = (Prop.Key<?>) f.get(null);
                assertThat(f.getName()).as("constant of %s", key.name())
                        .isEqualTo(key.name().toUpperCase(Locale.ROOT));
                keys.add(key);
            }
        }
        return keys;
    }

    @Test
    void everyKey_isAPropertyOfTheCatalogue_withTheCataloguesType() throws IllegalAccessException {
        assertThat(keys()).hasSizeGreaterThanOrEqualTo(20);
        for (var key : keys()) {
            var defs = Arrays.stream(QubeClass.values()).map(k -> PropertyCatalog.of(k).get(key.name()))
                    .filter(d -> d != null).toList();
            assertThat(defs).as("classes with property %s", key.name()).isNotEmpty();
            assertThat(defs).as("type of %s", key.name()).allSatisfy(d -> assertThat(d.type()).isEqualTo(key.type()));
        }
    }

    @Test
    void everyGlobalKey_isAGlobalPropertyOfTheCatalogue_withTheCataloguesType() throws IllegalAccessException {
        var keys = new ArrayList<Prop.GlobalKey<?>>();
        for (Field f : Prop.Global.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == Prop.GlobalKey.class) {
                keys.add((Prop.GlobalKey<?>) f.get(null));
                assertThat(f.getName()).isEqualTo(keys.getLast().name().toUpperCase(Locale.ROOT));
            }
        }
        assertThat(keys).hasSizeGreaterThanOrEqualTo(10);
        var inv = InventoryTest.typical();
        for (var key : keys) {
            var def = PropertyCatalog.global().get(key.name());
            assertThat(def).as("global property %s", key.name()).isNotNull();
            assertThat(def.type()).as("type of global %s", key.name()).isEqualTo(key.type());
            Object typed = inv.globalValue(key);
            assertThat(typed).as("typed read of global %s", key.name()).isEqualTo(key.type() == PropertyType.INT
                    ? (Object) Long.parseLong(inv.globalValue(key.name()).orElse("0")) : inv.globalValue(key.name()));
        }
        assertThat(inv.globalValue(Prop.Global.DEFAULT_NETVM)).contains("sys-firewall");
        long timeout = inv.globalValue(Prop.Global.DEFAULT_QREXEC_TIMEOUT);
        assertThat(timeout).isEqualTo(60);
    }

    @Test
    void typedReads_agreeWithTheReadsByName_forEveryKeyOfEveryQube() throws IllegalAccessException {
        var inv = InventoryTest.typical().withProperty("work", "memory", "800").withProperty("work", "kernel", "");
        for (var q : inv.qubes().values()) {
            for (var key : keys()) {
                if (!inv.hasProperty(q, key)) {
                    continue;
                }
                Object typed = inv.value(q, key);
                switch (key.type()) {
                    case BOOL -> assertThat(typed).isEqualTo(inv.boolValue(q, key.name()));
                    case INT -> assertThat(typed).isEqualTo(inv.intValue(q, key.name()));
                    default -> assertThat(typed).isEqualTo(inv.value(q, key.name()));
                }
            }
        }
    }

    @Test
    void typedReads_giveJavaValues() {
        var inv = InventoryTest.typical().withProperty("work", "memory", "800").withProperty("work", "kernel", "");
        var work = inv.qube("work");
        long memory = inv.value(work, Prop.MEMORY);
        boolean network = inv.value(inv.qube("sys-net"), Prop.PROVIDES_NETWORK);
        assertThat(memory).isEqualTo(800);
        assertThat(network).isTrue();
        assertThat(inv.value(work, Prop.NETVM)).contains("sys-firewall");
        assertThat(inv.value(work, Prop.KERNEL)).isEqualTo(Optional.empty());
        assertThat(inv.value(work, Prop.TEMPLATE_FOR_DISPVMS)).isFalse();
    }

    @Test
    void aKeyOfAnotherClass_isRefusedAsTheReadByNameIs() {
        var inv = InventoryTest.typical();
        assertThatThrownBy(() -> inv.value(inv.qube("dom0"), Prop.MEMORY)).isInstanceOf(CompartException.class)
                .hasMessageContaining("Invalid property 'memory' of dom0");
        assertThat(inv.hasProperty(inv.qube("work"), Prop.AUTO_CLEANUP)).isFalse();
    }
}
