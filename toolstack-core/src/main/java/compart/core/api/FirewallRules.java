package compart.core.api;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Parses firewall rules in the Admin API's one-line form ({@code action=accept dsthost=1.2.3.4 proto=tcp
 * dstports=443-443}): known keys, {@code action} first and required, values without spaces.
 */
final class FirewallRules {
    private static final Set<String> KEYS = Set.of("action", "dsthost", "dstports", "proto", "specialtarget",
            "icmptype", "expire", "comment");

    private FirewallRules() {
    }

    static List<String> parse(String untrusted) {
        var rules = new ArrayList<String>();
        for (String line : untrusted.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            String body = line;
            String comment = null;
            int c = line.indexOf(" comment=");
            if (c >= 0) {
                body = line.substring(0, c);
                comment = line.substring(c + 9);
            }
            var keys = new ArrayList<String>();
            for (String tok : body.split(" ")) {
                int eq = tok.indexOf('=');
                if (eq <= 0 || !KEYS.contains(tok.substring(0, eq)) || keys.contains(tok.substring(0, eq))) {
                    throw new CompartException(ErrorKind.PROTOCOL, "invalid firewall rule element: "
                            + QubeClassNames.printable(tok));
                }
                keys.add(tok.substring(0, eq));
                String v = tok.substring(eq + 1);
                if (tok.startsWith("action=") && !v.equals("accept") && !v.equals("drop")) {
                    throw CompartException.invalidValue("firewall action must be accept or drop");
                }
                if (tok.startsWith("proto=") && !Set.of("tcp", "udp", "icmp").contains(v)) {
                    throw CompartException.invalidValue("firewall proto must be tcp, udp or icmp");
                }
            }
            if (keys.isEmpty() || !keys.getFirst().equals("action")) {
                throw new CompartException(ErrorKind.PROTOCOL, "firewall rule must start with action=");
            }
            rules.add(comment == null ? body : body + " comment=" + comment);
        }
        return rules;
    }
}
