package compart.core.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import compart.core.model.Inventory;
import compart.core.model.Label;
import compart.core.model.PoolDefinition;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import compart.core.model.VolumeDefinition;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the {@link Inventory} on disk, one JSON file per qube ({@code qubes/NAME.json}) and one for labels, pools
 * and global properties ({@code system.json}), each replaced atomically with a backup (see {@link AtomicFiles}).
 * A change touches only the files of what changed, so one damaged file costs one qube, never the others.
 *
 * <p>At load, a file that cannot be read or parsed is replaced by its backup; when both are bad the qube is
 * reported in {@link Loaded#broken()} and left out (its file is kept for the user to inspect), and references
 * that no longer resolve are reset (see {@link Inventory#repaired}).
 *
 * <p>Not thread safe: the daemon serialises {@link #save} calls.
 */
public final class StateStore {
    private static final Logger LOG = LoggerFactory.getLogger(StateStore.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final int FORMAT = 1;

    private final Path dir;
    private final Path qubesDir;

    /**
     * A qube entry that could not be loaded.
     *
     * @param name  the qube's name (from the file name)
     * @param file  the file
     * @param error why it could not be read
     */
    public record BrokenEntry(String name, Path file, String error) {
    }

    /**
     * What {@link #load} found.
     *
     * @param inventory the consistent inventory
     * @param broken    entries that could not be loaded
     * @param repairs   one line per repair made (backup used, reference reset)
     * @param fresh     whether the directory held no state (a new system was created)
     */
    public record Loaded(Inventory inventory, List<BrokenEntry> broken, List<String> repairs, boolean fresh) {
    }

    /**
     * @param dir the state directory; created when missing
     * @throws CompartException STORAGE when it cannot be created
     */
    public StateStore(Path dir) {
        this.dir = Objects.requireNonNull(dir);
        this.qubesDir = dir.resolve("qubes");
        try {
            Files.createDirectories(qubesDir);
            // whatever the umask: the qubes' configuration and the default pool below are for dom0's admins only
            for (Path d : List.of(dir, qubesDir)) {
                Files.setPosixFilePermissions(d, AtomicFiles.DIRECTORY_MODE);
            }
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot create state directory " + qubesDir + ": " + e, e);
        }
    }

    /** @return the state directory */
    public Path directory() {
        return dir;
    }

    /**
     * Loads the inventory; a directory without state yields {@code initial}, saved at once.
     *
     * @param initial what a fresh system holds (dom0, labels, pools)
     * @return what was found
     */
    public Loaded load(Inventory initial) {
        var repairs = new ArrayList<String>();
        var broken = new ArrayList<BrokenEntry>();
        cleanTemporaries(dir, repairs);
        cleanTemporaries(qubesDir, repairs);
        Path system = dir.resolve("system.json");
        boolean fresh = !Files.exists(system) && !Files.exists(bak(system));
        if (fresh) {
            save(null, initial);
            return new Loaded(initial, List.of(), List.of(), true);
        }
        JsonNode sys = readWithBackup(system, repairs);
        if (sys == null) {
            throw new CompartException(ErrorKind.STORAGE, "cannot read " + system + " nor its backup: restore it "
                    + "from a backup or move the state directory away to start afresh");
        }
        var labels = new TreeMap<Integer, Label>();
        sys.path("labels").forEach(l -> labels.put(l.path("index").asInt(),
                new Label(l.path("index").asInt(), l.path("name").asText(), l.path("color").asText())));
        var globals = new TreeMap<String, String>();
        sys.path("properties").properties().forEach(e -> globals.put(e.getKey(), e.getValue().asText()));
        var pools = new TreeMap<String, PoolDefinition>();
        sys.path("pools").properties().forEach(e -> {
            var cfg = new TreeMap<String, String>();
            e.getValue().path("config").properties().forEach(c -> cfg.put(c.getKey(), c.getValue().asText()));
            pools.put(e.getKey(), new PoolDefinition(e.getKey(), e.getValue().path("driver").asText(), cfg));
        });
        var qubes = new TreeMap<String, Qube>();
        try (var files = Files.list(qubesDir)) {
            for (Path f : files.sorted().toList()) {
                String fn = f.getFileName().toString();
                if (fn.endsWith(".json" + AtomicFiles.BACKUP)) {
                    Path main = f.resolveSibling(fn.substring(0, fn.length() - AtomicFiles.BACKUP.length()));
                    if (!Files.exists(main)) {
                        Files.delete(f);
                        repairs.add("removed " + f + ": the removal of its qube had not finished");
                    }
                    continue;
                }
                if (!fn.endsWith(".json")) {
                    continue;
                }
                String name = fn.substring(0, fn.length() - 5);
                var errors = new ArrayList<String>();
                Qube q = null;
                for (Path candidate : List.of(f, bak(f))) {
                    if (!Files.exists(candidate)) {
                        continue;
                    }
                    try {
                        q = qubeFromJson(JSON.readTree(Files.readAllBytes(candidate)));
                        if (!q.name().equals(name)) {
                            throw new IllegalArgumentException("file names qube " + q.name());
                        }
                        if (candidate != f) {
                            repairs.add("qube " + name + ": " + f + " unreadable (" + errors.getFirst()
                                    + "), loaded its backup");
                        }
                        break;
                    } catch (IOException | RuntimeException e) {
                        q = null;
                        errors.add(candidate.getFileName() + ": " + e.getMessage());
                    }
                }
                if (q == null) {
                    broken.add(new BrokenEntry(name, f, String.join("; ", errors)));
                    LOG.error("qube {}: cannot load {} nor its backup: {}", name, f, errors);
                } else {
                    qubes.put(name, q);
                }
            }
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot list " + qubesDir + ": " + e, e);
        }
        dropDuplicateIds(qubes, broken);
        if (!qubes.containsKey("dom0")) {
            qubes.put("dom0", initial.qube("dom0"));
            repairs.add("dom0 entry missing: recreated");
        }
        var raw = new Inventory(labels.isEmpty() ? Inventory.defaultLabels() : labels, globals, qubes, pools,
                initial.hostMemoryMib());
        var inv = raw.repaired(repairs);
        repairs.forEach(r -> LOG.warn("state repair: {}", r));
        var kept = new TreeMap<String, Qube>(raw.qubes());
        for (var name : raw.qubes().keySet()) {
            if (!inv.qubes().containsKey(name)) {
                // its file stays on disk for the user: the qube is in error, not deleted
                kept.remove(name);
                broken.add(new BrokenEntry(name, qubesDir.resolve(name + ".json"),
                        "left out: " + String.join("; ", repairs.stream().filter(r -> r.contains(" " + name + ":"))
                                .toList())));
            }
        }
        var rawKept = new Inventory(raw.labels(), raw.globals(), kept, raw.pools(), raw.hostMemoryMib());
        if (!inv.equals(rawKept)) {
            save(rawKept, inv);
        }
        return new Loaded(inv, List.copyOf(broken), List.copyOf(repairs), false);
    }

    private static void dropDuplicateIds(TreeMap<String, Qube> qubes, List<BrokenEntry> broken) {
        var seenQid = new HashMap<Integer, String>();
        var seenUuid = new HashMap<UUID, String>();
        for (var q : List.copyOf(qubes.values())) {
            String other = seenQid.putIfAbsent(q.qid(), q.name());
            if (other == null) {
                other = seenUuid.putIfAbsent(q.uuid(), q.name());
            }
            if (other != null) {
                qubes.remove(q.name());
                broken.add(new BrokenEntry(q.name(), null, "same qid or uuid as qube " + other));
            }
        }
    }

    /**
     * Writes what differs between {@code before} and {@code after}: changed and new qube files, deleted ones, and
     * system.json when labels, pools or global properties changed.
     *
     * @param before the inventory on disk (null: write everything)
     * @param after  the inventory to store
     * @throws CompartException STORAGE when a write fails (the files already written stay valid on their own)
     */
    public void save(Inventory before, Inventory after) {
        if (before == null || !before.labels().equals(after.labels()) || !before.globals().equals(after.globals())
                || !before.pools().equals(after.pools())) {
            AtomicFiles.write(dir.resolve("system.json"), bytes(systemToJson(after)));
        }
        for (var q : after.qubes().values()) {
            if (before == null || !q.equals(before.qubes().get(q.name()))) {
                AtomicFiles.write(qubesDir.resolve(q.name() + ".json"), bytes(qubeToJson(q)));
            }
        }
        if (before != null) {
            for (var name : before.qubes().keySet()) {
                if (!after.qubes().containsKey(name)) {
                    AtomicFiles.delete(qubesDir.resolve(name + ".json"));
                }
            }
        }
    }

    private static Path bak(Path f) {
        return f.resolveSibling(f.getFileName() + AtomicFiles.BACKUP);
    }

    private static void cleanTemporaries(Path d, List<String> repairs) {
        try (var files = Files.list(d)) {
            for (Path f : files.toList()) {
                if (f.getFileName().toString().startsWith(AtomicFiles.TEMP)) {
                    Files.deleteIfExists(f);
                    repairs.add("removed unfinished write " + f);
                }
            }
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot list " + d + ": " + e, e);
        }
    }

    private static JsonNode readWithBackup(Path f, List<String> repairs) {
        for (Path candidate : List.of(f, bak(f))) {
            try {
                if (Files.exists(candidate)) {
                    var n = JSON.readTree(Files.readAllBytes(candidate));
                    if (n != null && n.path("format").asInt() == FORMAT) {
                        if (candidate != f) {
                            repairs.add(f + " unreadable: loaded its backup");
                        }
                        return n;
                    }
                }
            } catch (IOException e) {
                LOG.warn("cannot read {}: {}", candidate, e.getMessage());
            }
        }
        return null;
    }

    private static byte[] bytes(JsonNode n) {
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode systemToJson(Inventory inv) {
        var root = JSON.createObjectNode();
        root.put("format", FORMAT);
        var labels = root.putArray("labels");
        inv.labels().values().forEach(l -> labels.addObject().put("index", l.index()).put("name", l.name())
                .put("color", l.color()));
        var props = root.putObject("properties");
        inv.globals().forEach(props::put);
        var pools = root.putObject("pools");
        inv.pools().values().forEach(p -> {
            var o = pools.putObject(p.name());
            o.put("driver", p.driver());
            var c = o.putObject("config");
            p.config().forEach(c::put);
        });
        return root;
    }

    static ObjectNode qubeToJson(Qube q) {
        var o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("class", q.klass().name());
        o.put("name", q.name());
        o.put("qid", q.qid());
        o.put("uuid", q.uuid().toString());
        if (q.dispid() >= 0) {
            o.put("dispid", q.dispid());
        }
        var props = o.putObject("properties");
        q.properties().forEach(props::put);
        var features = o.putObject("features");
        q.features().forEach(features::put);
        var tags = o.putArray("tags");
        q.tags().forEach(tags::add);
        o.put("notes", q.notes());
        var fw = o.putArray("firewall");
        q.firewall().forEach(fw::add);
        var vols = o.putObject("volumes");
        q.volumes().values().forEach(v -> vols.putObject(v.name()).put("pool", v.pool()).put("vid", v.vid())
                .put("size", v.size()).put("rw", v.rw()).put("snap_on_start", v.snapOnStart())
                .put("save_on_stop", v.saveOnStop()).put("source", v.source())
                .put("revisions_to_keep", v.revisionsToKeep()).put("ephemeral", v.ephemeral()));
        return o;
    }

    static Qube qubeFromJson(JsonNode o) {
        if (o == null || o.path("format").asInt() != FORMAT) {
            throw new IllegalArgumentException("not a Compart qube entry of format " + FORMAT);
        }
        var props = new TreeMap<String, String>();
        o.path("properties").properties().forEach(e -> props.put(e.getKey(), e.getValue().asText()));
        var features = new TreeMap<String, String>();
        o.path("features").properties().forEach(e -> features.put(e.getKey(), e.getValue().asText()));
        var tags = new TreeSet<String>();
        o.path("tags").forEach(t -> tags.add(t.asText()));
        var fw = new ArrayList<String>();
        o.path("firewall").forEach(t -> fw.add(t.asText()));
        var vols = new TreeMap<String, VolumeDefinition>();
        o.path("volumes").properties().forEach(e -> {
            var v = e.getValue();
            vols.put(e.getKey(), new VolumeDefinition(e.getKey(), v.path("pool").asText(), v.path("vid").asText(),
                    v.path("size").asLong(), v.path("rw").asBoolean(), v.path("snap_on_start").asBoolean(),
                    v.path("save_on_stop").asBoolean(), v.path("source").asText(),
                    v.path("revisions_to_keep").asInt(), v.path("ephemeral").asBoolean()));
        });
        if (!o.hasNonNull("name") || !o.hasNonNull("qid") || !o.hasNonNull("uuid")) {
            throw new IllegalArgumentException("entry lacks name, qid or uuid");
        }
        return new Qube(QubeClass.parse(o.path("class").asText()), o.path("name").asText(), o.path("qid").asInt(),
                UUID.fromString(o.path("uuid").asText()), o.path("dispid").asInt(-1), props, features, tags,
                o.path("notes").asText(""), fw, vols);
    }
}
