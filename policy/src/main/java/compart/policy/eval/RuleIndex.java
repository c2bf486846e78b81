package compart.policy.eval;

import compart.policy.model.QubeToken;
import compart.policy.model.Rule;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the rules that can match a call without looking at the others.
 *
 * <p>Rules are filed by service ({@code *} apart), argument, literal source name and literal target name; a
 * token that is not a plain name (keywords, {@code dom0}, {@code uuid:}) files the rule under "any". A call
 * gathers at most 2&times;2&times;2&times;2 lists of rule numbers, each ascending, and {@link Cursor} walks
 * their merge in order, so the first full match found is the first match of a plain scan. Immutable and thread
 * safe once built.
 */
final class RuleIndex {
    /** The "any" key: NUL never occurs in a name that reaches the policy. */
    static final String ANY = "\0*";

    /** service -> argument -> source -> target -> rule numbers. */
    private final Node byTarget;
    /** service -> argument -> source -> rule numbers (collecting ask targets ignores the target). */
    private final Node bySource;

    RuleIndex(List<Rule> rules) {
        Builder t = new Builder();
        Builder s = new Builder();
        for (int i = 0; i < rules.size(); i++) {
            Rule r = rules.get(i);
            String svc = r.service() == null ? ANY : r.service();
            String arg = r.argument() == null ? ANY : r.argument();
            String src = literal(r.source());
            t.child(svc).child(arg).child(src).child(literal(r.target())).add(i);
            s.child(svc).child(arg).child(src).add(i);
        }
        byTarget = t.build();
        bySource = s.build();
    }

    /** @return the name a token is filed under: the plain name it denotes, or {@link #ANY} */
    static String literal(QubeToken token) {
        if (token instanceof QubeToken.Named n && !n.name().startsWith("uuid:") && !QubeToken.isDom0(n.name())) {
            return n.name();
        }
        return ANY;
    }

    /**
     * The rules that may match, in order.
     *
     * @param sourceName the caller's plain name, or null when only "any" rules can match
     * @param targetName the target's plain name, or null likewise
     */
    Cursor candidates(String service, String argument, String sourceName, String targetName) {
        Cursor c = new Cursor();
        Node svcAny = byTarget.get(ANY);
        collect(c, byTarget.get(service), argument, sourceName, targetName, 0);
        collect(c, svcAny, argument, sourceName, targetName, 0);
        return c;
    }

    /** The rules that may match service, argument and source, whatever the target, in order. */
    Cursor candidatesIgnoringTarget(String service, String argument, String sourceName) {
        Cursor c = new Cursor();
        collect(c, bySource.get(service), argument, sourceName, null, 1);
        collect(c, bySource.get(ANY), argument, sourceName, null, 1);
        return c;
    }

    /** Adds the lists under an argument node; {@code skip} = 1 when the tree has no target level. */
    private static void collect(Cursor c, Node byArg, String argument, String source, String target, int skip) {
        if (byArg == null) return;
        for (int a = 0; a < 2; a++) {
            Node bySrc = byArg.get(a == 0 ? argument : ANY);
            if (bySrc == null) continue;
            for (int s = 0; s < 2; s++) {
                if (s == 0 && source == null) continue;
                Node leafOrTgt = bySrc.get(s == 0 ? source : ANY);
                if (leafOrTgt == null) continue;
                if (skip == 1) {
                    c.add(leafOrTgt.rules);
                    continue;
                }
                for (int t = 0; t < 2; t++) {
                    if (t == 0 && target == null) continue;
                    Node leaf = leafOrTgt.get(t == 0 ? target : ANY);
                    if (leaf != null) c.add(leaf.rules);
                }
            }
        }
    }

    /** Walks several ascending lists of rule numbers as one ascending sequence. */
    static final class Cursor {
        private final int[][] lists = new int[16][];
        private final int[] pos = new int[16];
        private int n;

        void add(int[] list) {
            if (list != null && list.length > 0) lists[n++] = list;
        }

        /** @return the next rule number, or -1 at the end */
        int next() {
            if (n == 1) {
                return pos[0] < lists[0].length ? lists[0][pos[0]++] : -1;
            }
            int best = -1;
            int bestValue = Integer.MAX_VALUE;
            for (int i = 0; i < n; i++) {
                if (pos[i] < lists[i].length && lists[i][pos[i]] < bestValue) {
                    bestValue = lists[i][pos[i]];
                    best = i;
                }
            }
            if (best < 0) return -1;
            pos[best]++;
            return bestValue;
        }

        /** @return every remaining rule number, ascending */
        int[] drain() {
            int total = 0;
            for (int i = 0; i < n; i++) total += lists[i].length - pos[i];
            int[] out = new int[total];
            int k = 0;
            for (int v = next(); v >= 0; v = next()) out[k++] = v;
            return out;
        }
    }

    /** One level of the tree: children by key, or (at the bottom) the rule numbers. */
    private record Node(Map<String, Node> children, int[] rules) {
        Node get(String key) {
            return key == null ? null : children.get(key);
        }
    }

    private static final class Builder {
        private final Map<String, Builder> children = new HashMap<>();
        private int[] rules = new int[0];
        private int count;

        Builder child(String key) {
            return children.computeIfAbsent(key, k -> new Builder());
        }

        void add(int rule) {
            if (count == rules.length) rules = Arrays.copyOf(rules, Math.max(4, count * 2));
            rules[count++] = rule;
        }

        Node build() {
            Map<String, Node> out = new HashMap<>(Math.max(4, children.size() * 2));
            children.forEach((k, v) -> out.put(k, v.build()));
            return new Node(Map.copyOf(out), Arrays.copyOf(rules, count));
        }
    }
}
