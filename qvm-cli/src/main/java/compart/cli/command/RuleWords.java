package compart.cli.command;

import compart.errors.CompartException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads the words of a rule on {@code qvm-firewall}'s command line the way Qubes' tool reads them:
 * {@code KEY=VALUE} words name an element, a bare word is the next element in the order action, dsthost, proto,
 * dstports or icmptype (a {@code proto} of tcp or udp skips icmptype, icmp skips dstports), and both kinds mix
 * ({@code dsthost=10.0.0.1 accept tcp 443}). {@code dst4} and {@code dst6} mean dsthost; {@code expire=+SECONDS}
 * means that many seconds from now. A pure function of its words and the time.
 */
final class RuleWords {
    private static final List<String> IN_ORDER = List.of("action", "dsthost", "proto", "dstports", "icmptype");
    private static final List<String> NAMED_ONLY = List.of("specialtarget", "comment", "expire");

    private RuleWords() {}

    /**
     * @param words      the rule's words
     * @param nowMillis  the current time, in milliseconds since 1970 (for {@code expire=+SECONDS})
     * @param misspelled makes the usage error for a word Qubes' tool refuses as a usage error (exit code 2):
     *                   {@code invalid rule description: WORD} (an empty value, more than one {@code =}) or
     *                   {@code Invalid rule element: WORD} (an unknown key)
     * @return the rule
     * @throws CompartException INVALID_VALUE for what the tool fails on at run time (exit code 1): a bare word
     *                          after every element in the order is taken, a protocol named after an element it
     *                          excludes, a value {@link FirewallRule#of} refuses
     */
    static FirewallRule rule(List<String> words, long nowMillis, Function<String, RuntimeException> misspelled) {
        return FirewallRule.of(elements(words, nowMillis, misspelled));
    }

    /** The elements the words name, before they are checked as a rule (see {@link #rule}). */
    static Map<String, String> elements(List<String> words, long nowMillis,
                                        Function<String, RuntimeException> misspelled) {
        List<String> order = new ArrayList<>(IN_ORDER);
        Map<String, String> elements = new LinkedHashMap<>();
        for (String word : words) {
            if (word.isEmpty()) {
                throw CompartException.invalidValue("an empty word cannot be part of a rule");
            }
            if (word.endsWith("=")) {
                throw misspelled.apply("invalid rule description: " + word);
            }
            String[] parts = word.split("=", -1);
            String key;
            String value;
            if (parts.length == 2) {
                key = parts[0];
                value = parts[1];
            } else if (parts.length == 1) {
                if (order.isEmpty()) {
                    throw CompartException.invalidValue("too many words in the rule: '%s' follows the last element"
                            + " a bare word can stand for", word);
                }
                key = order.getFirst();
                value = word;
            } else {
                throw misspelled.apply("invalid rule description: " + word);
            }
            if (key.equals("dst4") || key.equals("dst6")) {
                key = "dsthost";
            }
            if (!IN_ORDER.contains(key) && !NAMED_ONLY.contains(key)) {
                throw misspelled.apply("Invalid rule element: " + word);
            }
            if (key.equals("expire") && value.startsWith("+")) {
                BigInteger seconds = FirewallRule.integer(value.substring(1));
                value = BigInteger.valueOf(Math.floorDiv(nowMillis, 1000L)).add(seconds).toString();
            }
            elements.put(key, value);
            order.remove(key);
            if (key.equals("proto") && (value.equals("tcp") || value.equals("udp"))) {
                skip(order, "icmptype", word);
            } else if (key.equals("proto") && value.equals("icmp")) {
                skip(order, "dstports", word);
            }
        }
        return elements;
    }

    private static void skip(List<String> order, String element, String word) {
        if (!order.remove(element)) {
            throw CompartException.invalidValue("'%s' cannot follow %s, or another proto", word, element);
        }
    }
}
