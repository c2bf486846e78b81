package compart.cli.command;

import compart.cli.client.AdminClient;
import compart.cli.client.Property;
import compart.cli.client.QubeEntry;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One qube as qvm-ls sees it: its {@code admin.vm.List} line, and what the columns and filters ask for, fetched
 * once and only when asked (properties come from one {@code GetAll} call). Not thread safe.
 */
final class QubeData {
    final QubeEntry entry;
    private final AdminClient client;
    private Map<String, Property> properties;
    private List<String> tags;
    private final Map<String, Optional<String>> features = new HashMap<>();
    private Map<String, Map<String, String>> volumes;
    private Map<String, String> currentState;

    QubeData(QubeEntry entry, AdminClient client) {
        this.entry = entry;
        this.client = client;
    }

    String name() {
        return entry.name();
    }

    void prefetchProperties() {
        properties();
    }

    private Map<String, Property> properties() {
        if (properties == null) {
            properties = client.properties(entry.name());
        }
        return properties;
    }

    /** @return the property, or null when the qube has no such property */
    Property property(String name) {
        return properties().get(name);
    }

    /** @return the property's value as qvm-ls shows it, or null for "-" (missing, unset, none or empty) */
    String shown(String name) {
        Property p = property(name);
        if (p == null || p.value().isEmpty()) {
            return null;
        }
        return p.value();
    }

    /** @return whether a bool property is true */
    boolean flag(String name) {
        Property p = property(name);
        return p != null && p.value().equals("True");
    }

    List<String> tags() {
        if (tags == null) {
            tags = client.tags(entry.name());
        }
        return tags;
    }

    Optional<String> feature(String name) {
        return features.computeIfAbsent(name, n -> client.feature(entry.name(), n));
    }

    /** @return volume name to its {@code admin.vm.volume.Info} */
    Map<String, Map<String, String>> volumes() {
        if (volumes == null) {
            volumes = new LinkedHashMap<>();
            for (String v : client.volumes(entry.name())) {
                volumes.put(v, client.volumeInfo(entry.name(), v));
            }
        }
        return volumes;
    }

    /** @return a volume's numeric field ({@code size}, {@code usage}) in bytes, 0 when absent */
    long volumeBytes(String volume, String field) {
        Map<String, String> info = volumes().get(volume);
        if (info == null) {
            return 0;
        }
        try {
            return Long.parseLong(info.getOrDefault(field, "0"));
        } catch (NumberFormatException e) {
            throw new CompartException(ErrorKind.PROTOCOL, "compartd sent a non-numeric " + field + " for volume "
                    + entry.name() + ":" + volume + ": " + info.get(field));
        }
    }

    Map<String, String> currentState() {
        if (currentState == null) {
            currentState = client.currentState(entry.name());
        }
        return currentState;
    }
}
