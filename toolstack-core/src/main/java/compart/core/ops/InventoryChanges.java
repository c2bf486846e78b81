package compart.core.ops;

import compart.core.model.Inventory;
import compart.core.model.Qube;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;

/**
 * The events of {@code admin.Events} that a change of the inventory makes, as Qubes fires them from its model:
 * a pure function of the inventory before and after, so every path that changes the inventory (the Admin API,
 * disposables, qrexec) publishes the same events.
 *
 * <ul>
 *   <li>global property: {@code property-set:NAME} (name, newvalue) / {@code property-reset:NAME} (name), subject
 *       "";</li>
 *   <li>qube added / removed: {@code domain-add} / {@code domain-delete} (vm), subject "";</li>
 *   <li>qube property: {@code property-set:NAME} (name, newvalue) / {@code property-reset:NAME} (name);</li>
 *   <li>feature: {@code domain-feature-set:NAME} (feature, value) / {@code domain-feature-delete:NAME}
 *       (feature);</li>
 *   <li>tag: {@code domain-tag-add:TAG} / {@code domain-tag-delete:TAG} (tag);</li>
 *   <li>firewall rules: {@code firewall-changed}.</li>
 * </ul>
 * A value is the stored (canonical) text; only what changed makes an event. Labels, pools, notes and volumes make
 * none (Qubes fires none for them on {@code admin.Events}).
 */
public final class InventoryChanges {
    private InventoryChanges() {
    }

    /**
     * @param before the inventory before the change
     * @param after  the inventory after it
     * @return the events, globals first, then the qubes by name
     */
    public static List<QubeEvent> between(Inventory before, Inventory after) {
        var events = new ArrayList<QubeEvent>();
        if (before == after) {
            return events;
        }
        properties("", before.globals(), after.globals(), events);
        for (String name : union(before.qubes().keySet(), after.qubes().keySet())) {
            var old = before.qubes().get(name);
            var now = after.qubes().get(name);
            if (old == null) {
                events.add(new QubeEvent("", "domain-add", kwargs("vm", name)));
            } else if (now == null) {
                events.add(new QubeEvent("", "domain-delete", kwargs("vm", name)));
            } else if (!old.equals(now)) {
                qube(old, now, events);
            }
        }
        return events;
    }

    private static void qube(Qube old, Qube now, List<QubeEvent> events) {
        String name = now.name();
        properties(name, old.properties(), now.properties(), events);
        for (String f : union(old.features().keySet(), now.features().keySet())) {
            String value = now.features().get(f);
            if (value == null) {
                events.add(new QubeEvent(name, "domain-feature-delete:" + f, kwargs("feature", f)));
            } else if (!value.equals(old.features().get(f))) {
                events.add(new QubeEvent(name, "domain-feature-set:" + f, kwargs("feature", f, "value", value)));
            }
        }
        for (String t : union(old.tags(), now.tags())) {
            if (!old.tags().contains(t)) {
                events.add(new QubeEvent(name, "domain-tag-add:" + t, kwargs("tag", t)));
            } else if (!now.tags().contains(t)) {
                events.add(new QubeEvent(name, "domain-tag-delete:" + t, kwargs("tag", t)));
            }
        }
        if (!old.firewall().equals(now.firewall())) {
            events.add(new QubeEvent(name, "firewall-changed", kwargs()));
        }
    }

    private static void properties(String subject, SortedMap<String, String> old, SortedMap<String, String> now,
                                   List<QubeEvent> events) {
        for (String p : union(old.keySet(), now.keySet())) {
            String value = now.get(p);
            if (value == null) {
                events.add(new QubeEvent(subject, "property-reset:" + p, kwargs("name", p)));
            } else if (!Objects.equals(value, old.get(p))) {
                events.add(new QubeEvent(subject, "property-set:" + p, kwargs("name", p, "newvalue", value)));
            }
        }
    }

    /** @return the keyword arguments in the order given (Qubes' order), from key, value pairs */
    private static Map<String, String> kwargs(String... keysAndValues) {
        var m = new LinkedHashMap<String, String>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    private static TreeSet<String> union(Set<String> a, Set<String> b) {
        var all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }
}
