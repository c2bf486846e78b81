package compart.cli.command;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiFunction;

/**
 * A column of qvm-ls: its head, a description for {@code --help-columns}, and how to compute a cell (null shows as
 * {@code -}). Any property of a qube is a column too ({@link #forField}).
 *
 * @param head  the head, upper case, {@code _} shown as {@code -}
 * @param doc   one line for {@code --help-columns}, empty for property columns
 * @param value computes the cell from the qube and every listed qube by name (GATEWAY looks at the netvm)
 */
record LsColumn(String head, String doc, BiFunction<QubeData, Map<String, QubeData>, String> value) {

    /** The columns that are not plain properties, by head. */
    static final Map<String, LsColumn> BUILT_IN = new TreeMap<>();

    static {
        add("STATE", "The power state (Running, Halted, Paused, ...).", (q, all) -> q.entry.state());
        add("CLASS", "The class of the qube.", (q, all) -> q.entry.klass());
        add("GATEWAY", "The network gateway (the netvm's gateway property).", (q, all) -> {
            String netvm = q.shown("netvm");
            QubeData n = netvm == null ? null : all.get(netvm);
            return n == null ? null : n.shown("gateway");
        });
        add("MEMORY", "Memory in use by a running qube, in MiB.", (q, all) -> {
            if (!q.entry.isRunning()) {
                return null;
            }
            String mem = q.currentState().get("mem");
            return mem == null ? null : String.valueOf(Long.parseLong(mem) / 1024);
        });
        add("DISK", "Disk space used by all the qube's volumes, in MiB.", (q, all) -> String.valueOf(
                q.volumes().keySet().stream().mapToLong(v -> q.volumeBytes(v, "usage")).sum() / 1024 / 1024));
        volumeColumns("PRIV", "private", "private volume (/home, /usr/local)");
        volumeColumns("ROOT", "root", "root volume (/usr, /lib, /etc, ...)");
        add("FLAGS", "Flags: type, power state, updateable, provides_network, installed_by_rpm, internal, debug, "
                + "autostart.", (q, all) -> flags(q));
    }

    private static void add(String head, String doc, BiFunction<QubeData, Map<String, QubeData>, String> value) {
        BUILT_IN.put(head, new LsColumn(head, doc, value));
    }

    private static void volumeColumns(String prefix, String volume, String what) {
        add(prefix + "-CURR", "Space used by the " + what + ", in MiB.",
                (q, all) -> String.valueOf(q.volumeBytes(volume, "usage") / 1024 / 1024));
        add(prefix + "-MAX", "Size of the " + what + ", in MiB.",
                (q, all) -> String.valueOf(q.volumeBytes(volume, "size") / 1024 / 1024));
        add(prefix + "-POOL", "Storage pool of the " + what + ".", (q, all) -> {
            Map<String, String> info = q.volumes().get(volume);
            return info == null ? "-" : info.get("pool");
        });
        add(prefix + "-USED", "Space used by the " + what + ", in percent of its size.", (q, all) -> {
            long size = q.volumeBytes(volume, "size") / 1024 / 1024;
            if (size == 0) {
                return "0";
            }
            return (q.volumeBytes(volume, "usage") / 1024 / 1024 * 100 / size) + "%";
        });
    }

    private static String flags(QubeData q) {
        String type = switch (q.entry.klass()) {
            case "AdminVM" -> "0";
            case "TemplateVM" -> "t";
            case "AppVM" -> "a";
            case "StandaloneVM" -> "s";
            case "DispVM" -> "d";
            default -> "-";
        };
        if (!type.equals("0") && !type.equals("-") && "hvm".equals(q.shown("virt_mode"))) {
            type = type.toUpperCase();
        }
        String state = q.entry.state().toLowerCase();
        String power = switch (state) {
            case "unknown" -> "?";
            case "running", "transient", "paused", "suspended", "halting", "dying", "crashed" ->
                    state.substring(0, 1);
            default -> "-";
        };
        return type + power + (q.flag("updateable") ? "U" : "-") + (q.flag("provides_network") ? "N" : "-")
                + (q.flag("installed_by_rpm") ? "R" : "-") + (q.flag("internal") ? "i" : "-")
                + (q.flag("debug") ? "D" : "-") + (q.flag("autostart") ? "A" : "-");
    }

    /**
     * @param field a field as the user or a format names it ({@code name}, {@code virt_mode}, {@code PRIV-CURR})
     * @return the built-in column of that head, else a property column
     */
    static LsColumn forField(String field) {
        String head = field.strip().toUpperCase().replace('_', '-');
        LsColumn builtIn = BUILT_IN.get(head);
        if (builtIn != null) {
            return builtIn;
        }
        String property = field.strip().toLowerCase().replace('-', '_');
        if (property.equals("name")) {
            return new LsColumn(head, "", (q, all) -> q.name());
        }
        return new LsColumn(head, "", (q, all) -> q.shown(property));
    }

    /** @return whether computing this column needs the qube's properties */
    boolean needsProperties() {
        return !head.equals("NAME") && !head.equals("STATE") && !head.equals("CLASS") && !head.equals("MEMORY")
                && !head.equals("DISK") && !head.startsWith("PRIV-") && !head.startsWith("ROOT-");
    }

    /** @return the cell as shown: {@code -} when there is no value */
    String cell(QubeData q, Map<String, QubeData> all) {
        String v = value.apply(q, all);
        return v == null || v.isEmpty() ? "-" : v;
    }
}
