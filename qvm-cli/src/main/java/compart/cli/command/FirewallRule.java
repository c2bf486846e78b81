package compart.cli.command;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One firewall rule as Qubes' admin client holds it ({@code qubesadmin.firewall.Rule}): built from named elements
 * (what {@code qvm-firewall add} reads) or from an {@code admin.vm.firewall.Get} line, checked the way the client
 * checks it, and written back in the client's form, which is what {@code qvm-firewall} sends with
 * {@code admin.vm.firewall.Set} and prints with {@code --raw}: elements in the order action, proto, destination,
 * dstports, icmptype, specialtarget, expire, comment; a bare address gets its prefix length and its key names its
 * family ({@code dst4=10.0.0.1/32}); ports are a range ({@code dstports=443-443}); an address with prefix length 0
 * (any host) is left out. Two rules are the same rule when they are written the same ({@code del RULE}).
 *
 * <p>Values keep the text they were given where the client keeps it (a host's address, an ICMP type, an expiry
 * time); numbers are read as Python's {@code int()} reads them. A value the client refuses is a
 * {@link CompartException} ({@link ErrorKind#INVALID_VALUE}) with the client's words.
 *
 * @param action        {@code accept} or {@code drop}
 * @param proto         {@code tcp}, {@code udp}, {@code icmp}, or null
 * @param host          the destination, or null for any
 * @param ports         the destination ports (tcp and udp only), or null
 * @param icmptype      the ICMP type as given (icmp only), or null
 * @param specialtarget {@code dns}, or null
 * @param expire        the expiry time as given (seconds since 1970), or null
 * @param comment       free text, or null
 */
record FirewallRule(String action, String proto, Host host, Ports ports, String icmptype, String specialtarget,
                    String expire, String comment) {
    /** The elements a rule may name, in the order the client checks them; dst4 and dst6 mean dsthost. */
    static final List<String> ELEMENTS = List.of("action", "proto", "dsthost", "dst4", "dst6", "specialtarget",
            "dstports", "icmptype", "expire", "comment");
    /** The seconds of the earliest and the latest time Python's datetime can hold (years 1 and 9999). */
    private static final long FIRST_SECOND = -62_135_596_800L;
    private static final long LAST_SECOND = 253_402_300_799L;
    private static final String HOSTNAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789-._";

    FirewallRule {
        if (action == null) {
            throw CompartException.invalidValue("missing action=");
        }
    }

    /**
     * A destination: a host name, or an IPv4 or IPv6 address with its prefix length.
     *
     * @param text   as shown in the table: the name, or the address with {@code /PREFIX} (as given, or added)
     * @param key    {@code dsthost}, {@code dst4} or {@code dst6}
     * @param prefix the prefix length; 0 for a name
     */
    record Host(String text, String key, BigInteger prefix) {
        /** @return the Admin API element, or null for an address that matches every host (prefix length 0) */
        String element() {
            return prefix.signum() == 0 && !key.equals("dsthost") ? null : key + "=" + text;
        }
    }

    /**
     * A port range.
     *
     * @param low  the first port
     * @param high the last port, not below {@code low}
     */
    record Ports(BigInteger low, BigInteger high) {
        /** @return {@code PORT} for one port, else {@code LOW-HIGH}, as the table shows it */
        String text() {
            return low.equals(high) ? low.toString() : low + "-" + high;
        }
    }

    /**
     * Builds a rule from named elements, checking them in the client's order.
     *
     * @param elements values by element name (see {@link #ELEMENTS})
     * @return the rule
     * @throws CompartException INVALID_VALUE with the client's message for a value it refuses, or for an unknown
     *                          element ({@code Unknown rule elements: ...})
     */
    static FirewallRule of(Map<String, String> elements) {
        var rest = new HashMap<>(elements);
        Map<String, String> values = new HashMap<>();
        for (String name : ELEMENTS) {
            String value = rest.remove(name);
            if (value != null) {
                values.put(name.equals("dst4") || name.equals("dst6") ? "dsthost" : name, value);
            }
        }
        if (!rest.isEmpty()) {
            throw CompartException.invalidValue("Unknown rule elements: %s", rest.keySet().stream().sorted().toList());
        }
        String action = values.get("action") == null ? null
                : choice("action", values.get("action"), List.of("accept", "drop"));
        String proto = values.get("proto") == null ? null
                : choice("proto", values.get("proto"), List.of("tcp", "udp", "icmp"));
        Host host = values.get("dsthost") == null ? null : host(values.get("dsthost"));
        String special = values.get("specialtarget") == null ? null
                : choice("specialtarget", values.get("specialtarget"), List.of("dns"));
        Ports ports = null;
        if (values.get("dstports") != null) {
            if (!"tcp".equals(proto) && !"udp".equals(proto)) {
                throw CompartException.invalidValue("dstports valid only for 'tcp' and 'udp' protocols");
            }
            ports = ports(values.get("dstports"));
        }
        String icmptype = values.get("icmptype");
        if (icmptype != null) {
            if (!"icmp".equals(proto)) {
                throw CompartException.invalidValue("icmptype valid only for 'icmp' protocol");
            }
            BigInteger type = integer(icmptype);
            if (type.signum() < 0 || type.compareTo(BigInteger.valueOf(255)) > 0) {
                throw CompartException.invalidValue("ICMP type out of range");
            }
        }
        String expire = values.get("expire");
        if (expire != null) {
            BigInteger when = integer(expire);
            if (when.compareTo(BigInteger.valueOf(FIRST_SECOND)) < 0
                    || when.compareTo(BigInteger.valueOf(LAST_SECOND)) > 0) {
                throw CompartException.invalidValue("expire time %s is out of the years 1-9999", expire);
            }
        }
        return new FirewallRule(action, proto, host, ports, icmptype, special, expire, values.get("comment"));
    }

    /**
     * Reads a rule as {@code admin.vm.firewall.Get} sends it: {@code key=value} elements separated by spaces, and a
     * {@code comment=} that runs to the end of the line.
     *
     * @param untrusted one line of the daemon's answer
     * @return the rule
     * @throws CompartException PROTOCOL for an element without {@code =}; INVALID_VALUE as {@link #of}
     */
    static FirewallRule parse(String untrusted) {
        int c = untrusted.indexOf("comment=");
        String options = c < 0 ? untrusted : untrusted.substring(0, c);
        Map<String, String> elements = new HashMap<>();
        for (String option : options.split(" ")) {
            if (option.isEmpty()) {
                continue;
            }
            int eq = option.indexOf('=');
            if (eq < 0) {
                throw new CompartException(ErrorKind.PROTOCOL,
                        "the daemon sent a firewall rule element without '=': " + option);
            }
            elements.put(option.substring(0, eq), option.substring(eq + 1));
        }
        if (c >= 0 && c + 8 < untrusted.length()) {
            elements.put("comment", untrusted.substring(c + 8));
        }
        return of(elements);
    }

    /** @return the rule in the client's Admin API form (what {@code --raw} prints and Set sends) */
    String line() {
        List<String> parts = new ArrayList<>();
        parts.add("action=" + action);
        if (proto != null) {
            parts.add("proto=" + proto);
        }
        if (host != null && host.element() != null) {
            parts.add(host.element());
        }
        if (ports != null) {
            parts.add("dstports=" + ports.low() + "-" + ports.high());
        }
        if (icmptype != null) {
            parts.add("icmptype=" + icmptype);
        }
        if (specialtarget != null) {
            parts.add("specialtarget=" + specialtarget);
        }
        if (expire != null) {
            parts.add("expire=" + expire);
        }
        if (comment != null) {
            parts.add("comment=" + comment);
        }
        return String.join(" ", parts);
    }

    /**
     * @param nowMillis the current time, in milliseconds since 1970
     * @return the cells of the table after NO: action, host, protocol, port(s), special target, ICMP type, expire
     *         (seconds from now, signed: {@code +3600s}), comment; {@code -} for what the rule does not name
     */
    List<String> cells(long nowMillis) {
        return List.of(action, orDash(host == null ? null : host.text()), orDash(proto),
                orDash(ports == null ? null : ports.text()), orDash(specialtarget), orDash(icmptype),
                expire == null ? "-" : fromNow(integer(expire).longValueExact(), nowMillis), orDash(comment));
    }

    private static String fromNow(long epochSeconds, long nowMillis) {
        double seconds = (epochSeconds * 1000.0 - nowMillis) / 1000.0;
        long rounded = Math.round(seconds);
        if (Math.abs(seconds - Math.rint(seconds)) == 0.5) {
            rounded = (long) Math.rint(seconds);
        }
        return (rounded < 0 || rounded == 0 && seconds < 0 ? "-" : "+") + Math.abs(rounded) + "s";
    }

    private static String orDash(String s) {
        return s == null ? "-" : s;
    }

    /**
     * @return a map from element name to value with the fields of this rule, in the client's order, absent ones
     *         null: what {@code --format json} shows of a rule
     */
    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("action", action);
        m.put("proto", proto);
        m.put("dsthost", host == null ? null : host.text());
        m.put("dstports", ports == null ? null : ports.text());
        m.put("icmptype", icmptype);
        m.put("specialtarget", specialtarget);
        m.put("expire", expire);
        m.put("comment", comment);
        return m;
    }

    private static String choice(String name, String value, List<String> allowed) {
        if (!allowed.contains(value)) {
            throw CompartException.invalidValue("invalid %s: '%s' (one of: %s)", name, value,
                    String.join(", ", allowed));
        }
        return value;
    }

    /** A destination as the client reads it (Python's {@code inet_pton} decides what an address is). */
    static Host host(String value) {
        int slashes = (int) value.chars().filter(ch -> ch == '/').count();
        if (slashes > 1) {
            throw CompartException.invalidValue("Too many /: %s", value);
        }
        if (slashes == 0) {
            if (Inet.isIpv6(value)) {
                return new Host(value + "/128", "dst6", BigInteger.valueOf(128));
            }
            if (Inet.isIpv4(value)) {
                return new Host(value + "/32", "dst4", BigInteger.valueOf(32));
            }
            for (int i = 0; i < value.length(); i++) {
                if (HOSTNAME_CHARACTERS.indexOf(value.charAt(i)) < 0) {
                    throw CompartException.invalidValue("Invalid hostname");
                }
            }
            return new Host(value, "dsthost", BigInteger.ZERO);
        }
        int slash = value.indexOf('/');
        String address = value.substring(0, slash);
        BigInteger prefix = integer(value.substring(slash + 1));
        if (prefix.signum() < 0) {
            throw CompartException.invalidValue("netmask must be non-negative");
        }
        if (Inet.isIpv6(address)) {
            if (prefix.compareTo(BigInteger.valueOf(128)) > 0) {
                throw CompartException.invalidValue("netmask for IPv6 must be <= 128");
            }
            return new Host(value, "dst6", prefix);
        }
        if (Inet.isIpv4(address)) {
            if (prefix.compareTo(BigInteger.valueOf(32)) > 0) {
                throw CompartException.invalidValue("netmask for IPv4 must be <= 32");
            }
            return new Host(value, "dst4", prefix);
        }
        throw CompartException.invalidValue("Invalid IP address: %s", address);
    }

    /** Destination ports as the client reads them: {@code PORT} or {@code LOW-HIGH}, each 0-65536. */
    static Ports ports(String value) {
        long dashes = value.chars().filter(ch -> ch == '-').count();
        if (dashes > 1) {
            throw CompartException.invalidValue("%s", value);
        }
        int dash = value.indexOf('-');
        BigInteger low = integer(dash < 0 ? value : value.substring(0, dash));
        BigInteger high = dash < 0 ? low : integer(value.substring(dash + 1));
        BigInteger max = BigInteger.valueOf(65536);
        if (low.signum() < 0 || high.signum() < 0 || low.compareTo(max) > 0 || high.compareTo(max) > 0) {
            throw CompartException.invalidValue("Ports out of range");
        }
        if (low.compareTo(high) > 0) {
            throw CompartException.invalidValue("Invalid port range");
        }
        return new Ports(low, high);
    }

    /**
     * Reads a decimal integer as Python's {@code int(str)} does: surrounding white space, a sign, digits with single
     * underscores between them.
     *
     * @throws CompartException INVALID_VALUE {@code invalid literal for int() with base 10: 'TEXT'}
     */
    static BigInteger integer(String text) {
        String s = text.strip();
        int start = !s.isEmpty() && (s.charAt(0) == '+' || s.charAt(0) == '-') ? 1 : 0;
        var digits = new StringBuilder();
        boolean valid = s.length() > start;
        for (int i = start; valid && i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '_' && i > start && i + 1 < s.length() && s.charAt(i - 1) != '_') {
                continue;
            }
            int d = Character.digit(ch, 10);
            valid = d >= 0 && Character.isDigit(ch);
            digits.append((char) ('0' + Math.max(d, 0)));
        }
        if (!valid || digits.isEmpty()) {
            throw CompartException.invalidValue("invalid literal for int() with base 10: '%s'", text);
        }
        BigInteger n = new BigInteger(digits.toString());
        return start == 1 && s.charAt(0) == '-' ? n.negate() : n;
    }

    /** What glibc's {@code inet_pton} accepts as an address (the client asks it through Python's socket module). */
    static final class Inet {
        private static final Set<Character> HEX = Set.of('0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
                'a', 'b', 'c', 'd', 'e', 'f', 'A', 'B', 'C', 'D', 'E', 'F');

        private Inet() {}

        /** @return whether the text is four decimal numbers 0-255 joined by dots, without leading zeros */
        static boolean isIpv4(String s) {
            String[] parts = s.split("\\.", -1);
            if (parts.length != 4) {
                return false;
            }
            for (String p : parts) {
                if (p.isEmpty() || p.length() > 3 || p.length() > 1 && p.charAt(0) == '0') {
                    return false;
                }
                for (int i = 0; i < p.length(); i++) {
                    if (p.charAt(i) < '0' || p.charAt(i) > '9') {
                        return false;
                    }
                }
                if (Integer.parseInt(p) > 255) {
                    return false;
                }
            }
            return true;
        }

        /**
         * @return whether the text is eight groups of 1-4 hex digits joined by colons, one {@code ::} standing for
         *         at least one group of zeros, the last two groups possibly written as an IPv4 address
         */
        static boolean isIpv6(String s) {
            int groups = 0;
            boolean compressed = false;
            int i = 0;
            if (s.startsWith("::")) {
                compressed = true;
                i = 2;
                if (i == s.length()) {
                    return true;
                }
            } else if (s.startsWith(":")) {
                return false;
            }
            while (i < s.length()) {
                int end = i;
                while (end < s.length() && HEX.contains(s.charAt(end))) {
                    end++;
                }
                if (end < s.length() && s.charAt(end) == '.') {
                    int next = s.indexOf(':', i);
                    if (next >= 0 || groups + 2 > 8 || !isIpv4(s.substring(i))) {
                        return false;
                    }
                    groups += 2;
                    break;
                }
                if (end == i || end - i > 4) {
                    return false;
                }
                groups++;
                if (end == s.length()) {
                    break;
                }
                if (s.charAt(end) != ':') {
                    return false;
                }
                if (end + 1 < s.length() && s.charAt(end + 1) == ':') {
                    if (compressed) {
                        return false;
                    }
                    compressed = true;
                    i = end + 2;
                    if (i == s.length()) {
                        break;
                    }
                } else {
                    i = end + 1;
                    if (i == s.length()) {
                        return false;
                    }
                }
                if (groups > 8) {
                    return false;
                }
            }
            return compressed ? groups < 8 : groups == 8;
        }
    }
}
