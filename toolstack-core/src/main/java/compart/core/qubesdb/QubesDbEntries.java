package compart.core.qubesdb;

import compart.core.model.Inventory;
import compart.core.model.Prop;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The QubesDB entries dom0 writes for a qube, as qubesd's {@code create_qdb_entries} and its extensions do
 * (services, vm-config, the R3 compatibility type, the net qube's firewall), and the pushes that turn one set
 * into another. Pure: reads the inventory and the {@link Facts}, nothing else. The random seed is not here: it is
 * written once per start ({@link QubesDbServer#create}).
 */
public final class QubesDbEntries {
    /** Services longer than this are not exported (qubesd logs and skips them). */
    static final int MAX_SERVICE_NAME = 48;
    private static final String FIREWALL = "/qubes-firewall/";

    private QubesDbEntries() {
    }

    /**
     * What the entries depend on besides the inventory.
     *
     * @param timezone        the host's timezone name ({@code Europe/Paris}), empty when unknown
     * @param clientsUp       qubes that started on this net qube since it started (qubesd writes their firewall
     *                        when they start and leaves it when they stop)
     * @param nowEpochSeconds the time, for firewall rules with an {@code expire=}
     */
    public record Facts(Optional<String> timezone, Set<String> clientsUp, long nowEpochSeconds) {
        /** Copies the set. */
        public Facts {
            Objects.requireNonNull(timezone, "timezone");
            clientsUp = Set.copyOf(clientsUp);
        }
    }

    /**
     * @param inv   the inventory
     * @param name  the qube (not dom0)
     * @param facts the rest
     * @return the entries by path, values as text
     */
    public static SortedMap<String, String> of(Inventory inv, String name, Facts facts) {
        var q = inv.qube(name);
        var e = new TreeMap<String, String>();
        e.put("/name", q.name());
        e.put("/type", q.klass().name());
        e.put("/default-user", inv.value(q, Prop.DEFAULT_USER).orElse("user"));
        boolean updateable = inv.boolValue(q, "updateable");
        e.put("/qubes-vm-updateable", updateable ? "True" : "False");
        e.put("/qubes-vm-persistence", q.klass() == QubeClass.DispVM ? "none" : updateable ? "full" : "rw-only");
        e.put("/qubes-debug-mode", inv.boolValue(q, "debug") ? "1" : "0");
        e.put("/qubes-base-template", inv.templateOf(q).map(Qube::name).orElse(""));
        if (inv.value(q, Prop.PROVIDES_NETWORK)) {
            String gateway = inv.value(q, Prop.GATEWAY).orElse("");
            e.put("/qubes-netvm-network", gateway);
            e.put("/qubes-netvm-gateway", gateway);
            e.put("/qubes-netvm-netmask", "255.255.255.255");
            dns(inv, q, "/qubes-netvm-", e);
        }
        if (inv.value(q, Prop.NETVM).isPresent()) {
            e.put("/qubes-mac", inv.value(q, Prop.MAC).orElse(""));
            e.put("/qubes-ip", inv.value(q, Prop.VISIBLE_IP).orElse(""));
            e.put("/qubes-netmask", inv.value(q, "visible_netmask").orElse(""));
            e.put("/qubes-gateway", inv.value(q, "visible_gateway").orElse(""));
            dns(inv, q, "/qubes-", e);
        }
        boolean anonTimezone = inv.checkFeature(q, "anon-timezone", true, false, false)
                .filter(v -> !v.isEmpty()).isPresent();
        facts.timezone().filter(tz -> !anonTimezone).ifPresent(tz -> e.put("/qubes-timezone", tz));
        e.put("/qubes-block-devices", "");
        e.put("/qubes-usb-devices", "");
        if (inv.value(q, Prop.PROVIDES_NETWORK)) {
            netQube(inv, q, facts, e);
        }
        e.put("/qubes-vm-type", vmType(inv, q));
        e.put("/qubes-iptables-error", "");
        features(q, e);
        e.put("/qubes-service/meminfo-writer", inv.value(q, Prop.MAXMEM) > 0 ? "1" : "0");
        e.entrySet().removeIf(x -> !QdbPath.validEntry(x.getKey())
                || !QdbCodec.dataValid(x.getValue().getBytes(StandardCharsets.UTF_8)));
        return e;
    }

    private static void dns(Inventory inv, Qube q, String prefix, Map<String, String> e) {
        var dns = inv.value(q, "dns").map(d -> d.split(" ")).orElse(new String[0]);
        String[] which = {"primary", "secondary"};
        for (int i = 0; i < Math.min(dns.length, which.length); i++) {
            e.put(prefix + which[i] + "-dns", dns[i]);
        }
    }

    /** R3 compatibility's {@code /qubes-vm-type}. */
    private static String vmType(Inventory inv, Qube q) {
        boolean provides = inv.value(q, Prop.PROVIDES_NETWORK);
        if (q.klass() == QubeClass.TemplateVM) {
            return "TemplateVM";
        }
        if (provides) {
            return inv.value(q, Prop.NETVM).isPresent() ? "ProxyVM" : "NetVM";
        }
        return "AppVM";
    }

    /** {@code service.*} as 0/1 under /qubes-service/, {@code vm-config.*} under /vm-config/. */
    private static void features(Qube q, Map<String, String> e) {
        q.features().forEach((feature, value) -> {
            if (feature.startsWith("service.")) {
                String service = feature.substring("service.".length());
                if (!service.isEmpty() && !service.startsWith("app-dispvm.")
                        && service.length() <= MAX_SERVICE_NAME) {
                    e.put("/qubes-service/" + service, value.isEmpty() ? "0" : "1");
                }
            } else if (feature.startsWith("vm-config.")) {
                e.put("/vm-config/" + feature.substring("vm-config.".length()), value);
            }
        });
    }

    /** A net qube's view of its clients: connected-ips, and mapped-ip and firewall of each client up. */
    private static void netQube(Inventory inv, Qube net, Facts facts, Map<String, String> e) {
        var clients = inv.connectedTo(net.name());
        var ips = new ArrayList<String>();
        for (var c : clients) {
            inv.value(c, Prop.VISIBLE_IP).ifPresent(ips::add);
        }
        e.put("/connected-ips", String.join(" ", ips));
        e.put("/connected-ips6", "");
        for (var c : clients) {
            var ip = inv.value(c, Prop.IP);
            if (!facts.clientsUp().contains(c.name()) || ip.isEmpty()) {
                continue;
            }
            String mapped = "/mapped-ip/" + ip.get();
            inv.value(c, Prop.VISIBLE_IP).ifPresent(v -> e.put(mapped + "/visible-ip", v));
            inv.value(c, "visible_gateway").ifPresent(v -> e.put(mapped + "/visible-gateway", v));
            String base = FIREWALL + ip.get();
            e.put(base + "/policy", "drop");
            var rules = c.firewall();
            for (int i = 0; i < rules.size(); i++) {
                String number = String.format("%04d", i); // numbered among all rules, as qubesd does
                qdbRule(rules.get(i), facts.nowEpochSeconds()).ifPresent(rule -> e.put(base + "/" + number, rule));
            }
            e.put(base, "");
        }
    }

    /**
     * A rule as the net qube reads it: the Admin API form without {@code expire=} and {@code comment=}; none for
     * an expired rule or an IPv6 one (these entries are the IPv4 family's).
     */
    static Optional<String> qdbRule(String apiRule, long nowEpochSeconds) {
        var kept = new ArrayList<String>();
        for (String element : apiRule.split(" ")) {
            if (element.startsWith("comment=")) {
                break;
            }
            if (element.startsWith("expire=")) {
                if (expiredAt(element.substring("expire=".length()), nowEpochSeconds)) {
                    return Optional.empty();
                }
            } else if (element.startsWith("dst6=")) {
                return Optional.empty();
            } else if (!element.isEmpty()) {
                kept.add(element);
            }
        }
        return Optional.of(String.join(" ", kept));
    }

    private static boolean expiredAt(String epochSeconds, long now) {
        try {
            return Long.parseLong(epochSeconds) < now;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * The pushes that turn {@code before} into {@code after}: removals, then writes, then for each client whose
     * firewall changed the way qubesd reloads it: its rules removed, written again, and the empty entry
     * {@code /qubes-firewall/<ip>} written last (the net qube reloads when it sees that one).
     */
    public static List<QdbOp> updates(SortedMap<String, String> before, SortedMap<String, String> after) {
        var ops = new ArrayList<QdbOp>();
        var firewallBefore = new LinkedHashMap<String, SortedMap<String, String>>();
        var firewallAfter = new LinkedHashMap<String, SortedMap<String, String>>();
        split(before, firewallBefore);
        split(after, firewallAfter);
        for (var k : before.keySet()) {
            if (!k.startsWith(FIREWALL) && !after.containsKey(k)) {
                ops.add(new QdbOp.Remove(k));
            }
        }
        for (var x : after.entrySet()) {
            if (!x.getKey().startsWith(FIREWALL) && !x.getValue().equals(before.get(x.getKey()))) {
                ops.add(new QdbOp.Write(x.getKey(), x.getValue()));
            }
        }
        var ips = new TreeSet<>(firewallBefore.keySet());
        ips.addAll(firewallAfter.keySet());
        for (var ip : ips) {
            var was = firewallBefore.getOrDefault(ip, new TreeMap<>());
            var now = firewallAfter.getOrDefault(ip, new TreeMap<>());
            if (was.equals(now)) {
                continue;
            }
            String base = FIREWALL + ip;
            ops.add(new QdbOp.Remove(base + "/"));
            now.forEach((k, v) -> {
                if (!k.equals(base)) {
                    ops.add(new QdbOp.Write(k, v));
                }
            });
            ops.add(now.containsKey(base) ? new QdbOp.Write(base, now.get(base)) : new QdbOp.Remove(base));
        }
        return ops;
    }

    /** Groups the firewall entries by client address. */
    private static void split(SortedMap<String, String> entries, Map<String, SortedMap<String, String>> byIp) {
        entries.tailMap(FIREWALL).forEach((k, v) -> {
            if (k.startsWith(FIREWALL)) {
                String rest = k.substring(FIREWALL.length());
                int slash = rest.indexOf('/');
                String ip = slash < 0 ? rest : rest.substring(0, slash);
                byIp.computeIfAbsent(ip, x -> new TreeMap<>()).put(k, v);
            }
        });
    }
}
