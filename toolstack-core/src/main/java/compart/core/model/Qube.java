package compart.core.model;

import compart.errors.CompartException;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * One qube's persistent configuration: what {@code qubes.xml} holds for a domain. Immutable; the
 * {@link Inventory} derives every property value (defaults, inheritance from the template) from these records.
 *
 * @param klass      its class
 * @param name       its name (validated by {@link Names#qube})
 * @param qid        its persistent id, 0 for dom0, 1..9999 otherwise
 * @param uuid       its UUID (the Xen domain handle)
 * @param dispid     for a DispVM its disposable id (its IP derives from it), else -1
 * @param properties the properties set explicitly, in canonical text form (vm properties by name, "" for none)
 * @param features   features (name to value)
 * @param tags       tags
 * @param notes      the user's notes ({@code admin.vm.notes.*})
 * @param firewall   firewall rules in the Admin API's one-line form
 * @param volumes    volume configuration by volume name
 */
public record Qube(QubeClass klass, String name, int qid, UUID uuid, int dispid, SortedMap<String, String> properties,
                   SortedMap<String, String> features, SortedSet<String> tags, String notes, List<String> firewall,
                   SortedMap<String, VolumeDefinition> volumes) {
    /** The largest qid (as in Qubes). */
    public static final int MAX_QID = 10000;

    /** Copies every collection into an unmodifiable one and checks the identity fields. */
    public Qube {
        Objects.requireNonNull(klass, "klass");
        Objects.requireNonNull(uuid, "uuid");
        Names.qube(name);
        if (qid < 0 || qid >= MAX_QID) {
            throw CompartException.invalidValue("qid of %s must be in 0..%d, got %d", name,
                    MAX_QID - 1, qid);
        }
        if ((klass == QubeClass.AdminVM) != (qid == 0)) {
            throw CompartException.invalidValue("qid 0 is dom0's and only dom0's (qube %s, class %s)",
                    name, klass);
        }
        if (klass == QubeClass.DispVM && (dispid < 0 || dispid >= MAX_QID)) {
            throw CompartException.invalidValue("DispVM %s needs a dispid in 0..%d, got %d", name,
                    MAX_QID - 1, dispid);
        }
        properties = Collections.unmodifiableSortedMap(new TreeMap<>(properties));
        features = Collections.unmodifiableSortedMap(new TreeMap<>(features));
        tags = Collections.unmodifiableSortedSet(new TreeSet<>(tags));
        notes = notes == null ? "" : notes;
        firewall = List.copyOf(firewall);
        volumes = Collections.unmodifiableSortedMap(new TreeMap<>(volumes));
    }

    /**
     * A new qube with nothing set but what identifies it.
     *
     * @param klass its class
     * @param name  its name
     * @param qid   its qid
     * @param uuid  its UUID
     * @return the qube
     */
    public static Qube of(QubeClass klass, String name, int qid, UUID uuid) {
        return new Qube(klass, name, qid, uuid, -1, new TreeMap<>(), new TreeMap<>(), new TreeSet<>(), "",
                List.of("action=accept"), new TreeMap<>());
    }

    /** @return the explicitly set value of {@code property}, if any */
    public Optional<String> explicit(String property) {
        return Optional.ofNullable(properties.get(property));
    }

    /** @return a copy with {@code property} set to {@code canonical} (or unset when null) */
    public Qube withProperty(String property, String canonical) {
        return new Qube(klass, name, qid, uuid, dispid, with(properties, property, canonical), features, tags, notes,
                firewall, volumes);
    }

    /** @return a copy with the feature set (or removed when {@code value} is null) */
    public Qube withFeature(String feature, String value) {
        return new Qube(klass, name, qid, uuid, dispid, properties, with(features, feature, value), tags, notes,
                firewall, volumes);
    }

    /** @return a sorted copy of {@code map} with {@code key} set to {@code value} (removed when null) */
    private static TreeMap<String, String> with(Map<String, String> map, String key, String value) {
        var copy = new TreeMap<>(map);
        if (value == null) {
            copy.remove(key);
        } else {
            copy.put(key, value);
        }
        return copy;
    }

    /** @return a copy with the tag added or removed */
    public Qube withTag(String tag, boolean present) {
        var t = new TreeSet<>(tags);
        if (present) {
            t.add(tag);
        } else {
            t.remove(tag);
        }
        return new Qube(klass, name, qid, uuid, dispid, properties, features, t, notes, firewall, volumes);
    }

    /** @return a copy with these notes */
    public Qube withNotes(String newNotes) {
        return new Qube(klass, name, qid, uuid, dispid, properties, features, tags, newNotes, firewall, volumes);
    }

    /** @return a copy with these firewall rules */
    public Qube withFirewall(List<String> rules) {
        return new Qube(klass, name, qid, uuid, dispid, properties, features, tags, notes, rules, volumes);
    }

    /** @return a copy with this dispid */
    public Qube withDispid(int newDispid) {
        return new Qube(klass, name, qid, uuid, newDispid, properties, features, tags, notes, firewall, volumes);
    }

    /** @return a copy with this volume configuration */
    public Qube withVolume(VolumeDefinition volume) {
        var v = new TreeMap<>(volumes);
        v.put(volume.name(), volume);
        return new Qube(klass, name, qid, uuid, dispid, properties, features, tags, notes, firewall, v);
    }
}
