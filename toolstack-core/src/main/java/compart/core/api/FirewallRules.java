package compart.core.api;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.net.Inet6Address;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/**
 * Parses firewall rules in the Admin API's one-line form and writes them back as qubesd does.
 *
 * <p>A line is {@code key=value} elements separated by single spaces, {@code action} required, and an optional
 * {@code comment=} that runs to the end of the line (it may hold spaces). The destination comes as {@code dsthost=},
 * {@code dst4=}, {@code dst6=} or {@code dstname=}: Qubes' own client sends {@code dst4=1.2.3.4/32}. Each rule is
 * stored in qubesd's canonical form, which is what {@code admin.vm.firewall.Get} answers: elements in the order
 * action, expire, destination, proto, specialtarget, dstports, icmptype, comment; a bare address gets its prefix
 * length ({@code /32}, {@code /128}) and its key says its family ({@code dst4}, {@code dst6}, {@code dsthost} for a
 * name); ports are always a range ({@code 443-443}).
 *
 * <p>Unknown or repeated elements are a protocol error; a bad value (address, port, ICMP type, protocol
 * combination, characters outside qubesd's safe set) is an invalid value. Stateless and thread-safe.
 */
final class FirewallRules {
    /** Value characters qubesd accepts (letters, digits and a few punctuation marks). */
    private static final String SAFE_PUNCTUATION = ":;,./-_[]";
    private static final Set<String> DESTINATION_KEYS = Set.of("dsthost", "dst4", "dst6", "dstname");
    private static final Set<String> KEYS = Set.of("action", "proto", "dstports", "icmptype", "specialtarget",
            "expire");
    private static final List<String> ORDER = List.of("action", "expire", "dst", "proto", "specialtarget",
            "dstports", "icmptype");

    private FirewallRules() {
    }

    /**
     * @param untrusted the payload of {@code admin.vm.firewall.Set}: one rule a line
     * @return the rules in canonical form, one string each
     * @throws CompartException PROTOCOL for an unknown or repeated element or a line without action; INVALID_VALUE
     *                          for a value qubesd would refuse
     */
    static List<String> parse(String untrusted) {
        var rules = new ArrayList<String>();
        for (String line : untrusted.split("\r\n|\n|\r")) {
            if (!line.isEmpty()) {
                rules.add(parseLine(line));
            }
        }
        return rules;
    }

    /**
     * @param rule a rule in canonical form, as {@link #parse} returns it
     * @param nowEpochSeconds the current time
     * @return whether the rule has an {@code expire=} time in the past (qubesd leaves such rules out of Get)
     */
    static boolean expired(String rule, long nowEpochSeconds) {
        for (String element : rule.split(" ")) {
            if (element.startsWith("comment=")) {
                break;
            }
            if (element.startsWith("expire=")) {
                try {
                    return Long.parseLong(element.substring(7)) < nowEpochSeconds;
                } catch (NumberFormatException e) {
                    return false;
                }
            }
        }
        return false;
    }

    private static String parseLine(String line) {
        String options = line;
        String comment = null;
        int c = line.indexOf("comment=");
        if (c >= 0) {
            options = line.substring(0, c);
            comment = line.substring(c + 8);
            for (int i = 0; i < comment.length(); i++) {
                char ch = comment.charAt(i);
                if (!safe(ch) && ch != ' ') {
                    throw CompartException.invalidValue("firewall rule comment has a character outside letters, "
                            + "digits, space and %s: %s", SAFE_PUNCTUATION, AdminText.printable(comment));
                }
            }
        }
        var elements = new LinkedHashMap<String, String>();
        for (String tok : options.strip().split(" ")) {
            if (tok.isEmpty() && options.isBlank() && comment != null) {
                continue;
            }
            int eq = tok.indexOf('=');
            String key = eq <= 0 ? "" : tok.substring(0, eq);
            boolean destination = DESTINATION_KEYS.contains(key);
            String slot = destination ? "dst" : key;
            if (!destination && !KEYS.contains(key) || elements.containsKey(slot)) {
                throw new CompartException(ErrorKind.PROTOCOL, "invalid firewall rule element: "
                        + AdminText.printable(tok));
            }
            String value = tok.substring(eq + 1);
            for (int i = 0; i < value.length(); i++) {
                if (!safe(value.charAt(i))) {
                    throw CompartException.invalidValue("firewall rule element %s has a character outside letters, "
                            + "digits and %s", AdminText.printable(tok), SAFE_PUNCTUATION);
                }
            }
            elements.put(slot, destination ? destination(value) : element(key, value));
        }
        if (!elements.containsKey("action")) {
            throw new CompartException(ErrorKind.PROTOCOL, "firewall rule without action=: "
                    + AdminText.printable(line));
        }
        String proto = elements.getOrDefault("proto", "");
        if (elements.containsKey("dstports") && !proto.equals("proto=tcp") && !proto.equals("proto=udp")) {
            throw CompartException.invalidValue("firewall dstports is valid only with proto=tcp or proto=udp: %s",
                    AdminText.printable(line));
        }
        if (elements.containsKey("icmptype") && !proto.equals("proto=icmp")) {
            throw CompartException.invalidValue("firewall icmptype is valid only with proto=icmp: %s",
                    AdminText.printable(line));
        }
        var out = new StringBuilder();
        for (String slot : ORDER) {
            String e = elements.get(slot);
            if (e != null) {
                out.append(out.isEmpty() ? "" : " ").append(e);
            }
        }
        if (comment != null) {
            out.append(" comment=").append(comment);
        }
        return out.toString();
    }

    private static boolean safe(char ch) {
        return ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9'
                || SAFE_PUNCTUATION.indexOf(ch) >= 0;
    }

    private static String element(String key, String value) {
        return switch (key) {
            case "action" -> choice(key, value, Set.of("accept", "drop"));
            case "proto" -> choice(key, value, Set.of("tcp", "udp", "icmp"));
            case "specialtarget" -> choice(key, value, Set.of("dns"));
            case "dstports" -> "dstports=" + ports(value);
            case "icmptype" -> {
                if (value.isEmpty() || value.length() > 3 || !digits(value) || Integer.parseInt(value) > 255) {
                    throw CompartException.invalidValue("firewall icmptype must be a number 0-255, not %s",
                            AdminText.printable(value));
                }
                yield "icmptype=" + Integer.parseInt(value);
            }
            case "expire" -> {
                if (value.isEmpty() || !digits(value) || value.length() > 18) {
                    throw CompartException.invalidValue("firewall expire must be a UNIX time in seconds, not %s",
                            AdminText.printable(value));
                }
                yield "expire=" + value;
            }
            default -> throw new IllegalStateException(key);
        };
    }

    private static String choice(String key, String value, Set<String> allowed) {
        if (!allowed.contains(value)) {
            throw CompartException.invalidValue("firewall %s must be one of %s, not %s", key,
                    allowed.stream().sorted().toList(), AdminText.printable(value));
        }
        return key + "=" + value;
    }

    private static String ports(String value) {
        String[] parts = value.split("-", -1);
        if (parts.length > 2 || !digits(parts[0]) || parts[0].isEmpty() || parts.length == 2
                && (parts[1].isEmpty() || !digits(parts[1]))) {
            throw CompartException.invalidValue("firewall dstports must be PORT or FIRST-LAST, not %s",
                    AdminText.printable(value));
        }
        long lo = port(parts[0]);
        long hi = parts.length == 2 ? port(parts[1]) : lo;
        if (lo > hi) {
            throw CompartException.invalidValue("firewall dstports range %s is reversed",
                    AdminText.printable(value));
        }
        return lo + "-" + hi;
    }

    private static long port(String digits) {
        long p = digits.length() > 6 ? Long.MAX_VALUE : Long.parseLong(digits);
        if (p > 65535) {
            throw CompartException.invalidValue("firewall port %s is out of range 0-65535",
                    AdminText.printable(digits));
        }
        return p;
    }

    /** The destination element for a host name, an IPv4 or IPv6 address, or a network with its prefix length. */
    private static String destination(String value) {
        int slash = value.indexOf('/');
        if (slash != value.lastIndexOf('/')) {
            throw CompartException.invalidValue("firewall destination %s has more than one /",
                    AdminText.printable(value));
        }
        String host = slash < 0 ? value : value.substring(0, slash);
        Integer prefix = null;
        if (slash >= 0) {
            String p = value.substring(slash + 1);
            if (p.isEmpty() || !digits(p) || p.length() > 3) {
                throw CompartException.invalidValue("firewall destination %s has a bad prefix length",
                        AdminText.printable(value));
            }
            prefix = Integer.parseInt(p);
        }
        int version = ipv6(host) ? 6 : ipv4(host) ? 4 : 0;
        if (version != 0) {
            int bits = version == 6 ? 128 : 32;
            int len = prefix == null ? bits : prefix;
            if (len > bits) {
                throw CompartException.invalidValue("firewall destination %s: IPv%d prefix length must be <= %d",
                        AdminText.printable(value), version, bits);
            }
            return "dst" + version + "=" + host + "/" + len;
        }
        if (prefix != null) {
            throw CompartException.invalidValue("firewall destination %s is not an IP address",
                    AdminText.printable(value));
        }
        for (int i = 0; i < host.length(); i++) {
            char ch = host.charAt(i);
            if (!(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '.' || ch == '_')) {
                throw CompartException.invalidValue("firewall destination %s is not an IP address or a host name "
                        + "(lower-case letters, digits, '-', '.', '_')", AdminText.printable(value));
            }
        }
        if (host.isEmpty()) {
            throw CompartException.invalidValue("firewall destination is empty");
        }
        return "dsthost=" + host;
    }

    /** Dotted quad of four decimal numbers 0-255 without leading zeros, as inet_pton(AF_INET) reads it. */
    static boolean ipv4(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !digits(p) || p.length() > 1 && p.charAt(0) == '0'
                    || Integer.parseInt(p) > 255) {
                return false;
            }
        }
        return true;
    }

    /** An IPv6 literal (hex groups, {@code ::}, an optional dotted-quad tail), without brackets or zone. */
    static boolean ipv6(String s) {
        if (s.indexOf(':') < 0 || s.indexOf('[') >= 0 || s.indexOf(']') >= 0 || s.indexOf('%') >= 0) {
            return false;
        }
        try {
            Inet6Address.ofLiteral(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean digits(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
