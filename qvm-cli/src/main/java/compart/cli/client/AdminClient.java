package compart.cli.client;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The Admin API calls the qvm-* commands make, with their payloads parsed into Java values; it does what
 * qubesadmin's {@code Qubes} and {@code QubesVM} objects do for Qubes' tools, without caching. Global (qubes-prefs)
 * calls use {@code qube == null}.
 *
 * <p>Every method throws {@link CompartException} when the daemon fails the call (see {@link Reply.Failure#kind()})
 * or cannot be reached. Thread safe: each call has its own connection.
 */
public final class AdminClient {
    /** The AdminVM's name: the destination of global calls. */
    public static final String DOM0 = "dom0";

    private final AdminSocket socket;

    /** @param socket the connection to the daemon */
    public AdminClient(AdminSocket socket) {
        this.socket = socket;
    }

    /** @return the underlying socket, for calls this class has no method for */
    public AdminSocket socket() {
        return socket;
    }

    /** Calls a method and returns its reply without throwing for daemon-side failures. */
    public Reply call(String dest, String method, String arg, String payload) {
        return socket.call(dest, method, arg, payload == null ? null : payload.getBytes(StandardCharsets.UTF_8));
    }

    private String text(String dest, String method, String arg, String payload) {
        return call(dest, method, arg, payload).text();
    }

    private List<String> lines(String dest, String method, String arg) {
        String text = text(dest, method, arg, null);
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isEmpty()) {
                lines.add(line);
            }
        }
        return lines;
    }

    // ---- qubes

    /** @return every qube, as {@code admin.vm.List} lists them (sorted by name by the daemon) */
    public List<QubeEntry> qubes() {
        List<QubeEntry> qubes = new ArrayList<>();
        for (String line : lines(DOM0, "admin.vm.List", null)) {
            String[] tokens = line.split(" ");
            Map<String, String> fields = new TreeMap<>();
            for (int i = 1; i < tokens.length; i++) {
                int eq = tokens[i].indexOf('=');
                if (eq > 0) {
                    fields.put(tokens[i].substring(0, eq), tokens[i].substring(eq + 1));
                }
            }
            if (!fields.containsKey("class") || !fields.containsKey("state")) {
                throw new CompartException(ErrorKind.PROTOCOL,
                        "compartd sent a malformed admin.vm.List line: " + AdminSocket.printable(line));
            }
            qubes.add(new QubeEntry(tokens[0], fields.get("class"), fields.get("state"), fields.get("uuid")));
        }
        return qubes;
    }

    /** @return {@code admin.vm.CurrentState} as a map ({@code power_state}, {@code mem}, ...) */
    public Map<String, String> currentState(String qube) {
        Map<String, String> state = new LinkedHashMap<>();
        for (String part : text(qube, "admin.vm.CurrentState", null, null).trim().split("\\s+")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                state.put(part.substring(0, eq), part.substring(eq + 1));
            }
        }
        return state;
    }

    /** @return the classes of qube the daemon can create */
    public List<String> vmClasses() {
        return lines(DOM0, "admin.vmclass.List", null);
    }

    /** @return the names of the labels */
    public List<String> labels() {
        return lines(DOM0, "admin.label.List", null);
    }

    /**
     * Creates a qube ({@code admin.vm.Create.CLASS}, or {@code CreateInPool} when pools are given).
     *
     * @param klass    its class
     * @param template its template, or null for the default
     * @param name     its name
     * @param label    its label
     * @param pool     the pool of all its volumes, or null
     * @param pools    pools by volume name (may be empty)
     */
    public void create(String klass, String template, String name, String label, String pool,
                       Map<String, String> pools) {
        var payload = new StringBuilder("name=").append(name).append(" label=").append(label);
        String method = "admin.vm.Create.";
        if (pool != null && !pool.isEmpty()) {
            payload.append(" pool=").append(pool);
            method = "admin.vm.CreateInPool.";
        }
        if (!pools.isEmpty()) {
            new TreeMap<>(pools).forEach((v, p) -> payload.append(" pool:").append(v).append('=').append(p));
            method = "admin.vm.CreateInPool.";
        }
        call(DOM0, method + klass, template, payload.toString()).orThrow();
    }

    /** Removes a qube ({@code admin.vm.Remove}); its reply is returned so callers can explain "in use". */
    public Reply remove(String qube) {
        return call(qube, "admin.vm.Remove", null, null);
    }

    /** Lifecycle calls: {@code admin.vm.Start}, {@code Pause}, {@code Unpause}, {@code Kill}. */
    public Reply lifecycle(String qube, String action) {
        return call(qube, "admin.vm." + action, null, null);
    }

    /** {@code admin.vm.Shutdown} with the {@code force} and {@code wait} arguments. */
    public Reply shutdown(String qube, boolean force, boolean wait) {
        String arg = force && wait ? "force+wait" : force ? "force" : wait ? "wait" : null;
        return call(qube, "admin.vm.Shutdown", arg, null);
    }

    // ---- properties (qube == null: global properties)

    private static String dest(String qube) {
        return qube == null ? DOM0 : qube;
    }

    private static String prefix(String qube) {
        return qube == null ? "admin.property." : "admin.vm.property.";
    }

    /** @return the property names of a qube (or the global ones) */
    public List<String> propertyNames(String qube) {
        return lines(dest(qube), prefix(qube) + "List", null);
    }

    /** @return every property with its value, from one {@code GetAll} call */
    public Map<String, Property> properties(String qube) {
        Map<String, Property> all = new TreeMap<>();
        for (String line : lines(dest(qube), prefix(qube) + "GetAll", null)) {
            String unescaped = unescape(line);
            int space = unescaped.indexOf(' ');
            if (space <= 0) {
                throw new CompartException(ErrorKind.PROTOCOL,
                        "compartd sent a malformed GetAll line: " + AdminSocket.printable(line));
            }
            all.put(unescaped.substring(0, space), Property.parse(unescaped.substring(space + 1)));
        }
        return all;
    }

    /** GetAll escapes backslash and newline in values. */
    static String unescape(String line) {
        if (line.indexOf('\\') < 0) {
            return line;
        }
        var out = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length()) {
                char n = line.charAt(++i);
                out.append(n == 'n' ? '\n' : n);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** @return the reply to {@code property.Get}: a failure when there is no such property */
    public Reply property(String qube, String name) {
        return call(dest(qube), prefix(qube) + "Get", name, null);
    }

    /** @return the reply to {@code property.Set} */
    public Reply setProperty(String qube, String name, String value) {
        return call(dest(qube), prefix(qube) + "Set", name, value);
    }

    /** @return the reply to {@code property.Reset} */
    public Reply resetProperty(String qube, String name) {
        return call(dest(qube), prefix(qube) + "Reset", name, null);
    }

    /** @return the help text of one property */
    public String propertyHelp(String qube, String name) {
        return text(dest(qube), prefix(qube) + "Help", name, null);
    }

    // ---- tags and features

    /** @return the qube's tags, sorted */
    public List<String> tags(String qube) {
        return lines(qube, "admin.vm.tag.List", null);
    }

    /** Adds a tag. */
    public void addTag(String qube, String tag) {
        call(qube, "admin.vm.tag.Set", tag, null).orThrow();
    }

    /** @return the reply to {@code admin.vm.tag.Remove} (a failure when the tag was not set) */
    public Reply removeTag(String qube, String tag) {
        return call(qube, "admin.vm.tag.Remove", tag, null);
    }

    /** @return the qube's feature names */
    public List<String> featureNames(String qube) {
        return lines(qube, "admin.vm.feature.List", null);
    }

    /** @return the feature's value, or empty when it is not set */
    public Optional<String> feature(String qube, String name) {
        Reply reply = call(qube, "admin.vm.feature.Get", name, null);
        if (reply instanceof Reply.Failure f && f.is("QubesFeatureNotFoundError")) {
            return Optional.empty();
        }
        return Optional.of(reply.text());
    }

    /** Sets a feature. */
    public void setFeature(String qube, String name, String value) {
        call(qube, "admin.vm.feature.Set", name, value).orThrow();
    }

    /** @return the reply to {@code admin.vm.feature.Remove} (a failure when it was not set) */
    public Reply removeFeature(String qube, String name) {
        return call(qube, "admin.vm.feature.Remove", name, null);
    }

    // ---- volumes

    /** @return the qube's volume names */
    public List<String> volumes(String qube) {
        return lines(qube, "admin.vm.volume.List", null);
    }

    /** @return {@code admin.vm.volume.Info} as ordered key/value pairs */
    public Map<String, String> volumeInfo(String qube, String volume) {
        return keyValues(text(qube, "admin.vm.volume.Info", volume, null));
    }

    /** @return the volume's revisions, oldest first */
    public List<String> revisions(String qube, String volume) {
        return lines(qube, "admin.vm.volume.ListSnapshots", volume);
    }

    // ---- pools

    /** @return the pool names */
    public List<String> pools() {
        return lines(DOM0, "admin.pool.List", null);
    }

    /** @return {@code admin.pool.Info} as ordered key/value pairs */
    public Map<String, String> poolInfo(String pool) {
        return keyValues(text(DOM0, "admin.pool.Info", pool, null));
    }

    /** @return each pool driver with the names of its parameters */
    public Map<String, List<String>> poolDrivers() {
        Map<String, List<String>> drivers = new TreeMap<>();
        for (String line : lines(DOM0, "admin.pool.ListDrivers", null)) {
            String[] parts = line.trim().split(" ");
            drivers.put(parts[0], List.of(parts).subList(1, parts.length));
        }
        return drivers;
    }

    static Map<String, String> keyValues(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                values.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return values;
    }
}
