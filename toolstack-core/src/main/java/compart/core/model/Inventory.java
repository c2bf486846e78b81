package compart.core.model;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.errors.Refusal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.random.RandomGenerator;

/**
 * Everything the toolstack knows persistently: labels, pools, global properties and qubes (what Qubes keeps in
 * {@code qubes.xml}). Immutable: every change returns a new inventory, and is refused with a
 * {@link CompartException} (nothing changed) when the result would break a rule: a value of the wrong type or out
 * of range, a netvm that does not provide network, a netvm loop, a template of the wrong class, a qube still used
 * by another qube or by a global property.
 *
 * <p>Thread safe (immutable). Readers keep the instance they got; the daemon swaps a new one in after it is
 * stored.
 *
 * @param labels        labels by index
 * @param globals       global properties set explicitly (canonical text)
 * @param qubes         qubes by name
 * @param pools         storage pools by name
 * @param hostMemoryMib the host's memory in MiB (for the maxmem default); 0 when unknown. Not persisted.
 */
public record Inventory(SortedMap<Integer, Label> labels, SortedMap<String, String> globals,
                        SortedMap<String, Qube> qubes, SortedMap<String, PoolDefinition> pools, long hostMemoryMib) {

    /** Copies every map into an unmodifiable one. */
    public Inventory {
        labels = Collections.unmodifiableSortedMap(new TreeMap<>(labels));
        globals = Collections.unmodifiableSortedMap(new TreeMap<>(globals));
        qubes = Collections.unmodifiableSortedMap(new TreeMap<>(qubes));
        pools = Collections.unmodifiableSortedMap(new TreeMap<>(pools));
    }

    /** The eight labels every Qubes system has, with Qubes' indexes and colours. */
    public static SortedMap<Integer, Label> defaultLabels() {
        var m = new TreeMap<Integer, Label>();
        String[][] l = {{"red", "0xcc0000"}, {"orange", "0xf57900"}, {"yellow", "0xedd400"}, {"green", "0x73d216"},
                {"gray", "0x555555"}, {"blue", "0x3465a4"}, {"purple", "0x75507b"}, {"black", "0x000000"}};
        for (int i = 0; i < l.length; i++) {
            m.put(i + 1, new Label(i + 1, l[i][0], l[i][1]));
        }
        return m;
    }

    /**
     * A fresh system: dom0 (label black), the default labels, and the given pools.
     *
     * @param pools         the pools to start with (may be empty)
     * @param hostMemoryMib the host's memory, 0 when unknown
     * @return the inventory
     */
    public static Inventory initial(List<PoolDefinition> pools, long hostMemoryMib) {
        var dom0 = Qube.of(QubeClass.AdminVM, "dom0", 0, new UUID(0, 0)).withProperty(Prop.LABEL.name(), "black");
        var p = new TreeMap<String, PoolDefinition>();
        pools.forEach(pool -> p.put(pool.name(), pool));
        var globals = new TreeMap<String, String>();
        if (p.containsKey(PoolDefinition.KERNEL_POOL)) {
            // As a fresh Qubes install does: the kernel pool is set, not a default.
            globals.put("default_pool_kernel", PoolDefinition.KERNEL_POOL);
        }
        return new Inventory(defaultLabels(), globals, new TreeMap<>(Map.of("dom0", dom0)), p, hostMemoryMib);
    }

    /** @return a copy knowing the host's memory (not persisted) */
    public Inventory withHostMemory(long mib) {
        return new Inventory(labels, globals, qubes, pools, mib);
    }

    // ---- lookups ----

    /** @return the qube named {@code name}, if any */
    public Optional<Qube> find(String name) {
        return Optional.ofNullable(qubes.get(name));
    }

    /**
     * @param name a qube name
     * @return the qube
     * @throws CompartException NOT_FOUND when there is none
     */
    public Qube qube(String name) {
        var q = qubes.get(name);
        if (q == null) {
            throw CompartException.notFound("No such domain: '%s'", QubeClass.printable(name));
        }
        return q;
    }

    /** @return the qube with this UUID, if any */
    public Optional<Qube> byUuid(UUID uuid) {
        return qubes.values().stream().filter(q -> q.uuid().equals(uuid)).findFirst();
    }

    /**
     * @param nameOrIndex a label name, or its index as decimal
     * @return the label
     * @throws CompartException NOT_FOUND when there is no such label
     */
    public Label label(String nameOrIndex) {
        for (var l : labels.values()) {
            if (l.name().equals(nameOrIndex)) {
                return l;
            }
        }
        String s = nameOrIndex.startsWith("label-") ? nameOrIndex.substring(6) : nameOrIndex;
        if (s.matches("[0-9]{1,9}") && labels.containsKey(Integer.parseInt(s))) {
            return labels.get(Integer.parseInt(s));
        }
        throw Refusal.NO_SUCH_LABEL.exception("Label does not exist: %s", QubeClass.printable(nameOrIndex));
    }

    /** @return whether a qube of this class has that property */
    public boolean hasProperty(Qube q, String property) {
        return PropertyCatalog.of(q.klass()).containsKey(property);
    }

    private PropertyDef def(Qube q, String property) {
        var d = PropertyCatalog.of(q.klass()).get(property);
        if (d == null) {
            throw CompartException.notFound("Invalid property '%s' of %s", QubeClass.printable(property), q.name());
        }
        return d;
    }

    private static PropertyDef globalDef(String property) {
        var d = PropertyCatalog.global().get(property);
        if (d == null) {
            throw CompartException.notFound("Invalid property '%s' of Qubes", QubeClass.printable(property));
        }
        return d;
    }

    /**
     * The effective value of a property: the explicit one, else the default.
     *
     * @return the value in canonical text form; empty when none (a vm property set to none, or no default)
     * @throws CompartException NOT_FOUND when the qube's class has no such property
     */
    public Optional<String> value(Qube q, String property) {
        def(q, property);
        var explicit = q.explicit(property);
        if (explicit.isPresent()) {
            return explicit.filter(v -> !v.isEmpty());
        }
        return PropertyCatalog.defaultOf(this, q, property);
    }

    /**
     * The effective value of a property core reads, typed by its key.
     *
     * @return as {@link Prop.Key} reads it: a {@code Boolean}, a {@code Long} or the text, empty when none
     * @throws CompartException NOT_FOUND when the qube's class has no such property
     */
    public <T> T value(Qube q, Prop.Key<T> key) {
        return key.reader().apply(value(q, key.name()));
    }

    /** @return whether a qube of this class has that property */
    public boolean hasProperty(Qube q, Prop.Key<?> key) {
        return hasProperty(q, key.name());
    }

    /** @return the value of an int property named by the client (core reads {@link #value(Qube, Prop.Key)}) */
    public long intValue(Qube q, String property) {
        return Long.parseLong(value(q, property).orElse("0"));
    }

    /** @return the value of a bool property named by the client (core reads {@link #value(Qube, Prop.Key)}) */
    public boolean boolValue(Qube q, String property) {
        return PropertyCatalog.isTrue(value(q, property));
    }

    /** @return the value a property would have if reset */
    public Optional<String> defaultValue(Qube q, String property) {
        def(q, property);
        return PropertyCatalog.defaultOf(this, q, property);
    }

    /** @return the property as the Admin API reports it */
    public PropertyValue property(Qube q, String property) {
        var d = def(q, property);
        // Qubes: a qube's name, qid and uuid are its own values, given at creation (dom0's are the defaults).
        boolean isDefault = PropertyCatalog.WRITE_ONCE.contains(property) ? q.klass() == QubeClass.AdminVM
                : !q.properties().containsKey(property) || !d.writable();
        return new PropertyValue(property, d.type(), isDefault, value(q, property));
    }

    /** @return the definitions of the properties of this qube, by name */
    public Map<String, PropertyDef> propertyDefs(Qube q) {
        return PropertyCatalog.of(q.klass());
    }

    /** @return the effective value of a global property */
    public Optional<String> globalValue(String property) {
        globalDef(property);
        var explicit = globals.get(property);
        if (explicit != null) {
            return Optional.of(explicit).filter(v -> !v.isEmpty());
        }
        return PropertyCatalog.globalDefaultOf(this, property);
    }

    /** @return the effective value of a global property core reads, typed by its key */
    public <T> T globalValue(Prop.GlobalKey<T> key) {
        return key.reader().apply(globalValue(key.name()));
    }

    /** @return the default value of a global property */
    public Optional<String> globalDefaultValue(String property) {
        globalDef(property);
        return PropertyCatalog.globalDefaultOf(this, property);
    }

    /** @return a global property as the Admin API reports it */
    public PropertyValue globalProperty(String property) {
        var d = globalDef(property);
        return new PropertyValue(property, d.type(), !globals.containsKey(property), globalValue(property));
    }

    /** @return whether the qube reaches a network: it provides one, or it has a netvm */
    public boolean isNetworked(Qube q) {
        if (q.klass() == QubeClass.AdminVM) {
            return false;
        }
        return value(q, Prop.PROVIDES_NETWORK) || value(q, Prop.NETVM).isPresent();
    }

    /** @return the qubes whose effective netvm is {@code netvm} */
    public List<Qube> connectedTo(String netvm) {
        return qubes.values().stream().filter(q -> q.klass() != QubeClass.AdminVM)
                .filter(q -> value(q, Prop.NETVM).map(netvm::equals).orElse(false)).toList();
    }

    /** @return the netvm chain of {@code q}, nearest first (empty when not networked through another qube) */
    public List<Qube> netvmChain(Qube q) {
        var chain = new ArrayList<Qube>();
        var seen = new HashSet<String>();
        seen.add(q.name());
        var cur = q;
        while (cur.klass() != QubeClass.AdminVM) {
            var next = value(cur, Prop.NETVM).flatMap(this::find);
            if (next.isEmpty() || !seen.add(next.get().name())) {
                break;
            }
            chain.add(next.get());
            cur = next.get();
        }
        return chain;
    }

    /** @return the template of {@code q}, if its class has one and it exists */
    public Optional<Qube> templateOf(Qube q) {
        if (!q.klass().hasTemplate()) {
            return Optional.empty();
        }
        return q.explicit(Prop.TEMPLATE.name()).filter(t -> !t.isEmpty()).flatMap(this::find);
    }

    /**
     * Looks a feature up as {@code admin.vm.feature.CheckWith*} do: on the qube, then along its template chain
     * (withTemplate), its netvm chain (withNetvm) and finally dom0 (withAdminVm).
     */
    public Optional<String> checkFeature(Qube q, String feature, boolean withTemplate, boolean withNetvm,
                                         boolean withAdminVm) {
        var v = Optional.ofNullable(q.features().get(feature));
        if (v.isPresent()) {
            return v;
        }
        if (withTemplate) {
            for (var t = templateOf(q); t.isPresent(); t = templateOf(t.get())) {
                if (t.get().features().containsKey(feature)) {
                    return Optional.of(t.get().features().get(feature));
                }
            }
        }
        if (withNetvm) {
            for (var n : netvmChain(q)) {
                if (n.features().containsKey(feature)) {
                    return Optional.of(n.features().get(feature));
                }
            }
        }
        if (withAdminVm) {
            return Optional.ofNullable(qube("dom0").features().get(feature));
        }
        return Optional.empty();
    }

    // ---- changes ----

    private Inventory replacing(Qube q) {
        var m = new TreeMap<>(qubes);
        m.put(q.name(), q);
        return new Inventory(labels, globals, m, pools, hostMemoryMib);
    }

    /**
     * Sets a qube property from an untrusted value.
     *
     * @param qubeName  the qube
     * @param property  the property
     * @param untrusted the value as received, ASCII; "" sets a vm property to none
     * @return the new inventory
     * @throws CompartException NOT_FOUND (qube, property), INVALID_VALUE (bad value, broken rule)
     */
    public Inventory withProperty(String qubeName, String property, String untrusted) {
        var q = qube(qubeName);
        var d = def(q, property);
        // Qubes checks the value's form first, then whether the property can be set at all.
        String canonical = PropertyCatalog.canonical(d, untrusted, this);
        if (!d.writable()) {
            throw CompartException.invalidValue("property '%s' on %s instance cannot be set", property, q.klass());
        }
        if (property.equals(Prop.VIRT_MODE.name()) || property.equals(Prop.MAC.name())) {
            canonical = canonical.toLowerCase(Locale.ROOT);
        }
        PropertyCatalog.checkQube(this, q, property, canonical);
        var changed = q.withProperty(property, canonical);
        if (property.equals(Prop.TEMPLATE.name()) && changed.klass() == QubeClass.AppVM
                && q.volumes().containsKey("root")) {
            var root = q.volumes().get("root");
            changed = changed.withVolume(new VolumeDefinition(root.name(), root.pool(), root.vid(), root.size(),
                    root.rw(), root.snapOnStart(), root.saveOnStop(), "vm-templates/" + canonical + "/root",
                    root.revisionsToKeep(), root.ephemeral()));
        }
        return replacing(serviceFeature(changed, property)).checked(q.name(), property);
    }

    /**
     * Resets a qube property to its default.
     *
     * @throws CompartException NOT_FOUND, INVALID_VALUE when the default would break a rule or the property
     *                          cannot be reset (template)
     */
    public Inventory withPropertyReset(String qubeName, String property) {
        var q = qube(qubeName);
        var d = def(q, property);
        if (!d.writable()) {
            if (PropertyCatalog.WRITE_ONCE.contains(property) && q.klass() != QubeClass.AdminVM) {
                throw PropertyCatalog.invalid(q, property, "", "property '" + property + "' cannot be reset");
            }
            // As in Qubes: a read-only property has no value of its own to forget, so a reset changes nothing.
            return this;
        }
        if (property.equals(Prop.TEMPLATE.name())) {
            throw Names.malformed("Cannot unset template");
        }
        return replacing(serviceFeature(q.withProperty(property, null), property)).checked(q.name(), property);
    }

    /** As Qubes: a change of provides_network sets the {@code servicevm} feature (its icon follows) or removes it. */
    private Qube serviceFeature(Qube q, String property) {
        if (!property.equals(Prop.PROVIDES_NETWORK.name())) {
            return q;
        }
        return q.withFeature("servicevm", value(q, Prop.PROVIDES_NETWORK) ? "1" : null);
    }

    /** Sets a global property from an untrusted value (see {@link #withProperty}). */
    public Inventory withGlobalProperty(String property, String untrusted) {
        var d = globalDef(property);
        String canonical = PropertyCatalog.canonical(d, untrusted, this);
        PropertyCatalog.checkGlobal(this, property, canonical);
        var g = new TreeMap<>(globals);
        g.put(property, canonical);
        return new Inventory(labels, g, qubes, pools, hostMemoryMib).checked(null, property);
    }

    /** Resets a global property to its default. */
    public Inventory withGlobalPropertyReset(String property) {
        globalDef(property);
        var g = new TreeMap<>(globals);
        g.remove(property);
        return new Inventory(labels, g, qubes, pools, hostMemoryMib).checked(null, property);
    }

    /**
     * Adds a new qube, as {@code admin.vm.Create.<class>} does.
     *
     * @param klass         its class (not AdminVM)
     * @param untrustedName its name
     * @param labelName     its label (name or index)
     * @param template      its template; when empty, AppVM uses {@code default_template} and DispVM
     *                      {@code default_dispvm}
     * @param random        source of the UUID and dispid
     * @return the new inventory (the qube has qid = lowest free, the default volumes in the default pool)
     * @throws CompartException ALREADY_EXISTS, INVALID_VALUE (name, label, template), NOT_FOUND (template)
     */
    public Inventory withNewQube(QubeClass klass, String untrustedName, String labelName, Optional<String> template,
                                 RandomGenerator random) {
        if (!klass.creatable()) {
            throw CompartException.invalidValue("qubes of class %s cannot be created", klass);
        }
        String name = Names.qube(untrustedName);
        if (qubes.containsKey(name)) {
            throw Names.malformed("VM %s already exists", name); // Qubes' class and words
        }
        if (qubes.values().stream().anyMatch(q -> q.name().equalsIgnoreCase(name))) {
            throw new CompartException(ErrorKind.ALREADY_EXISTS, "Qube already exists (case differs): " + name);
        }
        var label = label(labelName);
        if (!klass.hasTemplate() && template.isPresent()) {
            throw new CompartException(ErrorKind.PROTOCOL, klass + " cannot be based on template");
        }
        Optional<String> tpl = Optional.empty();
        if (klass.hasTemplate()) {
            var byDefault = klass == QubeClass.AppVM ? Prop.Global.DEFAULT_TEMPLATE : Prop.Global.DEFAULT_DISPVM;
            tpl = template.or(() -> globalValue(byDefault));
            if (tpl.isEmpty()) {
                throw CompartException.invalidValue("no template given for new %s %s and no default set "
                        + "(set the global property %s)", klass, name, byDefault.name());
            }
            qube(tpl.get());
        }
        int qid = 1;
        var used = new HashSet<Integer>();
        qubes.values().forEach(q -> used.add(q.qid()));
        while (used.contains(qid)) {
            qid++;
        }
        if (qid >= Qube.MAX_QID) {
            throw CompartException.invalidState("cannot find an unused qid: %d qubes exist", qubes.size());
        }
        int dispid = -1;
        if (klass == QubeClass.DispVM) {
            var usedDispids = new HashSet<Integer>();
            qubes.values().forEach(x -> usedDispids.add(x.dispid()));
            do {
                dispid = 1 + random.nextInt(Qube.MAX_QID - 1);
            } while (usedDispids.contains(dispid));
        }
        var uuid = new UUID(random.nextLong() & 0xffffffffffff0fffL | 0x4000L,
                random.nextLong() & 0x3fffffffffffffffL | 0x8000000000000000L);
        var q = new Qube(klass, name, qid, uuid, dispid, new TreeMap<>(Map.of(Prop.LABEL.name(), label.name())),
                new TreeMap<>(), new TreeSet<>(), "", List.of("action=accept"), new TreeMap<>());
        if (tpl.isPresent()) {
            q = q.withProperty(Prop.TEMPLATE.name(), tpl.get());
        }
        var pool = globalValue(Prop.Global.DEFAULT_POOL);
        if (pool.isPresent()) {
            for (var v : VolumeDefinition.defaults(klass, name, tpl.orElse(""), pool.get())) {
                if (!v.pool().equals(PoolDefinition.KERNEL_POOL) || pools.containsKey(PoolDefinition.KERNEL_POOL)) {
                    q = q.withVolume(v);
                }
            }
        }
        var result = replacing(q);
        if (tpl.isPresent()) {
            var t = result.qube(tpl.get());
            var want = klass.templateClass().orElseThrow();
            if (t.klass() != want) {
                throw CompartException.invalidValue("template of %s %s must be a %s, but %s is a %s", klass, name,
                        want, t.name(), t.klass());
            }
            if (klass == QubeClass.DispVM && !result.value(t, Prop.TEMPLATE_FOR_DISPVMS)) {
                throw CompartException.invalidValue("%s cannot be the template of DispVM %s: its "
                        + "template_for_dispvms is False", t.name(), name);
            }
        }
        return result.checked(name, null);
    }

    /**
     * Removes a qube.
     *
     * @throws CompartException NOT_FOUND, INVALID_STATE when it is dom0 or still used by another qube or by a
     *                          global property (the message names the users)
     */
    public Inventory withoutQube(String name) {
        var q = qube(name);
        if (q.klass() == QubeClass.AdminVM) {
            throw CompartException.invalidState("'dom0' cannot be removed");
        }
        var users = usersOf(name);
        if (!users.isEmpty()) {
            throw CompartException.invalidState("Domain is in use: '%s'; used by %s", name, String.join(", ", users));
        }
        var m = new TreeMap<>(qubes);
        m.remove(name);
        return new Inventory(labels, globals, m, pools, hostMemoryMib);
    }

    /** @return who refers to qube {@code name}: {@code @GLOBAL:prop} or {@code qube:prop}, set explicitly */
    public List<String> usersOf(String name) {
        var users = new ArrayList<String>();
        for (var e : globals.entrySet()) {
            var d = PropertyCatalog.global().get(e.getKey());
            if (d != null && d.type() == PropertyType.VM && e.getValue().equals(name)) {
                users.add("@GLOBAL:" + e.getKey());
            }
        }
        for (var q : qubes.values()) {
            if (q.name().equals(name)) {
                continue;
            }
            for (var e : q.properties().entrySet()) {
                var d = PropertyCatalog.of(q.klass()).get(e.getKey());
                if (d != null && d.type() == PropertyType.VM && e.getValue().equals(name)) {
                    users.add(q.name() + ":" + e.getKey());
                }
            }
        }
        return users;
    }

    /** @return a copy with the qube replaced by {@code q} (same name), checked */
    public Inventory withQube(Qube q) {
        qube(q.name());
        return replacing(q).checked(q.name(), null);
    }

    /** Sets (or with null value removes) a feature. @throws CompartException NOT_FOUND, INVALID_VALUE */
    public Inventory withFeature(String qubeName, String feature, String value) {
        var q = qube(qubeName);
        Names.feature(feature);
        if (value != null) {
            Names.featureValue(value);
        } else if (!q.features().containsKey(feature)) {
            throw CompartException.notFound("Feature not set for domain %s: %s", q.name(), feature);
        }
        return replacing(q.withFeature(feature, value));
    }

    /** Adds or removes a tag. @throws CompartException NOT_FOUND (qube; tag on removal), INVALID_VALUE */
    public Inventory withTag(String qubeName, String tag, boolean present) {
        var q = qube(qubeName);
        Names.tag(tag);
        if (!present && !q.tags().contains(tag)) {
            throw CompartException.notFound("Tag not set for domain %s: %s", q.name(), tag);
        }
        return replacing(q.withTag(tag, present));
    }

    /**
     * Adds a label with the next index above the defaults.
     *
     * @throws CompartException ALREADY_EXISTS, INVALID_VALUE
     */
    public Inventory withLabel(String untrustedName, String untrustedColor) {
        Label.validateName(untrustedName);
        if (labels.values().stream().anyMatch(l -> l.name().equals(untrustedName))) {
            throw Names.malformed("label already exists"); // Qubes' class and words
        }
        int index = Math.max(Label.MAX_DEFAULT_INDEX, labels.isEmpty() ? 0 : labels.lastKey()) + 1;
        var m = new TreeMap<>(labels);
        m.put(index, new Label(index, untrustedName, untrustedColor.strip()));
        return new Inventory(m, globals, qubes, pools, hostMemoryMib);
    }

    /** Removes a user label. @throws CompartException NOT_FOUND, INVALID_STATE (default label or in use) */
    public Inventory withoutLabel(String name) {
        var l = label(name);
        if (l.index() <= Label.MAX_DEFAULT_INDEX) {
            throw new CompartException(ErrorKind.PROTOCOL, "Can only remove custom labels");
        }
        for (var q : qubes.values()) {
            if (value(q, Prop.LABEL).map(l.name()::equals).orElse(false)) {
                throw CompartException.invalidState("Label is still in use: '%s' (by %s)", l.name(), q.name());
            }
        }
        var m = new TreeMap<>(labels);
        m.remove(l.index());
        return new Inventory(m, globals, qubes, pools, hostMemoryMib);
    }

    /** Replaces a pool's configuration (same name). @throws CompartException NOT_FOUND */
    public Inventory withPoolReplaced(PoolDefinition pool) {
        if (!pools.containsKey(pool.name())) {
            throw CompartException.notFound("No such storage pool: %s", pool.name());
        }
        var m = new TreeMap<>(pools);
        m.put(pool.name(), pool);
        return new Inventory(labels, globals, qubes, m, hostMemoryMib);
    }

    /** Adds a storage pool. @throws CompartException ALREADY_EXISTS */
    public Inventory withPool(PoolDefinition pool) {
        if (pools.containsKey(pool.name())) {
            throw new CompartException(ErrorKind.ALREADY_EXISTS, "Storage pool is in use: '" + pool.name() + "'");
        }
        var m = new TreeMap<>(pools);
        m.put(pool.name(), pool);
        return new Inventory(labels, globals, qubes, m, hostMemoryMib);
    }

    /** Removes a pool. @throws CompartException NOT_FOUND, INVALID_STATE when a volume or a default uses it */
    public Inventory withoutPool(String name) {
        if (!pools.containsKey(name)) {
            throw CompartException.notFound("No such storage pool: %s", QubeClass.printable(name));
        }
        for (var q : qubes.values()) {
            for (var v : q.volumes().values()) {
                if (v.pool().equals(name)) {
                    throw CompartException.invalidState("Storage pool is in use: '%s' (volume %s:%s)", name,
                            q.name(), v.name());
                }
            }
        }
        for (var e : globals.entrySet()) {
            if (e.getKey().startsWith("default_pool") && e.getValue().equals(name)) {
                throw CompartException.invalidState("Storage pool is in use: '%s' (global property %s)", name,
                        e.getKey());
            }
        }
        var m = new TreeMap<>(pools);
        m.remove(name);
        return new Inventory(labels, globals, qubes, m, hostMemoryMib);
    }

    // ---- rules on the whole inventory ----

    /**
     * One broken rule found by {@link #violations()}.
     *
     * @param qube     the qube, or null for a global property
     * @param property the property whose value breaks the rule
     * @param message  what is wrong
     * @param valueError Qubes raises its parent class QubesValueError for this rule (the netvm checks)
     */
    public record Violation(String qube, String property, String message, boolean valueError) {
        /** A rule of the property's own (Qubes: QubesPropertyValueError). */
        public Violation(String qube, String property, String message) {
            this(qube, property, message, false);
        }
    }

    /** @return every rule the inventory breaks (empty for a consistent one) */
    public List<Violation> violations() {
        var out = new ArrayList<Violation>();
        for (var e : globals.entrySet()) {
            var d = PropertyCatalog.global().get(e.getKey());
            if (d == null) {
                out.add(new Violation(null, e.getKey(), "unknown global property " + e.getKey()));
            } else if (d.type() == PropertyType.VM && !e.getValue().isEmpty() && !qubes.containsKey(e.getValue())) {
                out.add(new Violation(null, e.getKey(), "global property " + e.getKey() + " refers to missing qube "
                        + e.getValue()));
            }
        }
        globalValue(Prop.Global.DEFAULT_TEMPLATE).flatMap(this::find).filter(t -> t.klass() != QubeClass.TemplateVM)
                .ifPresent(t -> out.add(new Violation(null, Prop.Global.DEFAULT_TEMPLATE.name(),
                        wrongClass(t, QubeClass.TemplateVM))));
        for (var key : List.of(Prop.Global.DEFAULT_DISPVM, Prop.Global.MANAGEMENT_DISPVM)) {
            String prop = key.name();
            globalValue(key).flatMap(this::find).filter(t -> !hasProperty(t, Prop.TEMPLATE_FOR_DISPVMS)
                    || !value(t, Prop.TEMPLATE_FOR_DISPVMS)).ifPresent(t -> out.add(new Violation(null, prop,
                    "global property " + prop + ": " + t.name() + " has template_for_dispvms set to False")));
        }
        // Qubes' rule for default_netvm, in its order (by name): no qube using the default may be it or carry it.
        globalValue(Prop.Global.DEFAULT_NETVM).flatMap(this::find).flatMap(n -> qubes.values().stream()
                .filter(q -> q.klass() != QubeClass.AdminVM && !q.properties().containsKey(Prop.NETVM.name()))
                .filter(q -> q.name().equals(n.name()) || connectedTo(n, q)).findFirst())
                .ifPresent(q -> out.add(new Violation(null, Prop.Global.DEFAULT_NETVM.name(),
                        "Network loop on '" + q.name() + "'")));
        globalValue(Prop.Global.DEFAULT_NETVM).flatMap(this::find).filter(n -> n.klass() == QubeClass.AdminVM
                || !value(n, Prop.PROVIDES_NETWORK)).ifPresent(n -> out.add(new Violation(null,
                Prop.Global.DEFAULT_NETVM.name(),
                "The " + n.name() + " qube does not provide network", true)));
        for (var q : qubes.values()) {
            for (var e : q.properties().entrySet()) {
                var d = PropertyCatalog.of(q.klass()).get(e.getKey());
                if (d == null) {
                    out.add(new Violation(q.name(), e.getKey(), q.klass() + " has no property " + e.getKey()));
                } else if (d.type() == PropertyType.VM && !e.getValue().isEmpty()
                        && !qubes.containsKey(e.getValue())) {
                    out.add(new Violation(q.name(), e.getKey(), e.getKey() + " of " + q.name()
                            + " refers to missing qube " + e.getValue()));
                }
            }
            if (q.klass() == QubeClass.AdminVM) {
                continue;
            }
            if (q.klass().hasTemplate()) {
                var t = q.explicit(Prop.TEMPLATE.name()).filter(x -> !x.isEmpty()).flatMap(this::find);
                var want = q.klass().templateClass().orElseThrow();
                if (t.isEmpty()) {
                    out.add(new Violation(q.name(), "template", q.klass() + " " + q.name() + " has no template"));
                } else if (t.get().klass() != want) {
                    out.add(new Violation(q.name(), "template", wrongClass(t.get(), want)));
                } else if (q.klass() == QubeClass.DispVM && !value(t.get(), Prop.TEMPLATE_FOR_DISPVMS)) {
                    out.add(new Violation(q.name(), "template", t.get().name()
                            + " has template_for_dispvms set to False but DispVM " + q.name() + " is based on it"));
                }
            }
            var netvm = value(q, Prop.NETVM).flatMap(this::find);
            if (netvm.isPresent()) {
                var n = netvm.get();
                if (n.klass() == QubeClass.AdminVM || !value(n, Prop.PROVIDES_NETWORK)) {
                    out.add(new Violation(q.name(), "netvm", "The " + n.name() + " qube does not provide network",
                            true));
                } else if (loops(q)) {
                    out.add(new Violation(q.name(), "netvm", "Loops in network are unsupported", true));
                }
            }
            for (var key : List.of(Prop.DEFAULT_DISPVM, Prop.MANAGEMENT_DISPVM)) {
                String prop = key.name();
                if (!q.properties().containsKey(prop)) {
                    continue;
                }
                value(q, key).flatMap(this::find).filter(t -> !hasProperty(t, Prop.TEMPLATE_FOR_DISPVMS)
                        || !value(t, Prop.TEMPLATE_FOR_DISPVMS)).ifPresent(t -> out.add(new Violation(q.name(),
                        prop, "cannot set " + prop + " of " + q.name() + " to " + t.name()
                        + ": it has template_for_dispvms set to False")));
            }
        }
        return out;
    }

    /** @return Qubes' words for a qube of another class than a property wants */
    private static String wrongClass(Qube q, QubeClass want) {
        return "wrong VM class: domains['" + q.name() + "'] is of type " + q.klass() + " and not " + want;
    }

    /** @return whether {@code to}'s explicit netvm chain passes through {@code via} (Qubes' "connected to") */
    private boolean connectedTo(Qube to, Qube via) {
        var seen = new HashSet<String>();
        var cur = to.explicit(Prop.NETVM.name()).filter(n -> !n.isEmpty()).flatMap(this::find);
        while (cur.isPresent() && seen.add(cur.get().name())) {
            if (cur.get().name().equals(via.name())) {
                return true;
            }
            cur = cur.get().explicit(Prop.NETVM.name()).filter(n -> !n.isEmpty()).flatMap(this::find);
        }
        return false;
    }

    private boolean loops(Qube q) {
        var seen = new HashSet<String>();
        var cur = Optional.of(q);
        while (cur.isPresent()) {
            if (!seen.add(cur.get().name())) {
                return true;
            }
            if (cur.get().klass() == QubeClass.AdminVM) {
                return false;
            }
            cur = value(cur.get(), Prop.NETVM).flatMap(this::find);
        }
        return false;
    }

    /**
     * @return this inventory when it breaks no rule
     * @throws CompartException INVALID_VALUE with the first rule broken, preferring one about the property just
     *                          changed
     */
    Inventory checked(String qube, String property) {
        var v = violations();
        if (v.isEmpty()) {
            return retagged();
        }
        var first = v.stream().filter(x -> Objects.equals(x.qube(), qube)
                && (property == null || property.equals(x.property()))).findFirst().orElse(v.getFirst());
        throw first.valueError() ? Names.malformed("%s", first.message())
                : CompartException.invalidValue("%s", first.message());
    }

    /**
     * The tags Qubes gives a qube by itself and its policies match on: {@code guivm-NAME} and {@code audiovm-NAME}
     * for the qube's effective GUI and audio qubes, kept in step with those properties.
     *
     * @return this inventory with every qube's automatic tags up to date
     */
    private Inventory retagged() {
        var m = new TreeMap<>(qubes);
        boolean changed = false;
        for (var q : qubes.values()) {
            var want = new TreeSet<String>();
            if (q.klass() != QubeClass.AdminVM) {
                value(q, Prop.GUIVM).ifPresent(g -> want.add("guivm-" + g));
                value(q, Prop.AUDIOVM).ifPresent(a -> want.add("audiovm-" + a));
            }
            var t = q;
            for (String tag : q.tags()) {
                if ((tag.startsWith("guivm-") || tag.startsWith("audiovm-")) && !want.contains(tag)) {
                    t = t.withTag(tag, false);
                }
            }
            for (String tag : want) {
                t = t.withTag(tag, true);
            }
            if (!t.tags().equals(q.tags())) {
                m.put(q.name(), t);
                changed = true;
            }
        }
        return changed ? new Inventory(labels, globals, m, pools, hostMemoryMib) : this;
    }

    /**
     * Repairs an inventory loaded from disk that breaks rules (a crash between two writes, an edited file): each
     * offending explicit property is reset to its default, and a qube whose template is missing is dropped.
     *
     * @param log receives one line per repair
     * @return a consistent inventory
     */
    public Inventory repaired(List<String> log) {
        var inv = this;
        for (int round = 0; round < 16; round++) {
            var v = inv.violations();
            if (v.isEmpty()) {
                return inv;
            }
            for (var x : v) {
                if (x.qube() == null) {
                    var g = new TreeMap<>(inv.globals);
                    if (g.remove(x.property()) != null) {
                        log.add("reset global property " + x.property() + ": " + x.message());
                    }
                    inv = new Inventory(inv.labels, g, inv.qubes, inv.pools, inv.hostMemoryMib);
                } else if (inv.qubes.containsKey(x.qube())) {
                    var q = inv.qubes.get(x.qube());
                    if (x.property().equals(Prop.TEMPLATE.name()) || !q.properties().containsKey(x.property())) {
                        var m = new TreeMap<>(inv.qubes);
                        m.remove(x.qube());
                        inv = new Inventory(inv.labels, inv.globals, m, inv.pools, inv.hostMemoryMib);
                        log.add("dropped qube " + x.qube() + ": " + x.message());
                    } else {
                        inv = inv.replacing(q.withProperty(x.property(), null));
                        log.add("reset " + x.qube() + ":" + x.property() + ": " + x.message());
                    }
                }
            }
        }
        throw new IllegalStateException("inventory could not be repaired: " + inv.violations());
    }
}
