package compart.policy.model;

import java.util.Objects;

/**
 * One way to name a qube or a set of qubes in a policy: a literal name, or one of the {@code @} keywords.
 *
 * <p>The closed set mirrors the Qubes policy format v5. Which kind is legal where is fixed by
 * {@link #allowedIn(Column)}; {@link TokenParser} turns text into a token for a given column and rejects the
 * rest. Tokens are immutable values; {@link #text()} gives back the exact policy spelling.
 */
public sealed interface QubeToken {

    /** The token as it is written in policy text. */
    String text();

    /** @return whether Qubes accepts this kind of token in {@code column} */
    boolean allowedIn(PolicyColumn column);

    /** @return whether {@code name} denotes dom0: {@code dom0}, {@code @adminvm} or the all-zero uuid */
    static boolean isDom0(String name) {
        return "@adminvm".equals(name) || "dom0".equals(name) || DOM0_UUID_TOKEN.equals(name);
    }

    /** The uuid of dom0 in {@code uuid:} form. */
    String DOM0_UUID_TOKEN = "uuid:00000000-0000-0000-0000-000000000000";

    /** {@code *}: any qube including dom0 (source and target columns). */
    record Wildcard() implements QubeToken {
        @Override public String text() { return "*"; }
        @Override public boolean allowedIn(PolicyColumn c) { return c == PolicyColumn.SOURCE || c == PolicyColumn.TARGET; }
    }

    /** {@code @anyvm}: any qube except dom0 (source and target columns). */
    record AnyVm() implements QubeToken {
        @Override public String text() { return "@anyvm"; }
        @Override public boolean allowedIn(PolicyColumn c) { return c == PolicyColumn.SOURCE || c == PolicyColumn.TARGET; }
    }

    /** {@code @adminvm}: dom0 (everywhere). */
    record AdminVm() implements QubeToken {
        @Override public String text() { return "@adminvm"; }
        @Override public boolean allowedIn(PolicyColumn c) { return true; }
    }

    /** {@code @default}: the caller named no target (target column and requests). */
    record DefaultVm() implements QubeToken {
        @Override public String text() { return "@default"; }
        @Override public boolean allowedIn(PolicyColumn c) { return c == PolicyColumn.TARGET || c == PolicyColumn.REQUEST; }
    }

    /** {@code @dispvm}: a new disposable of the caller's {@code default_dispvm} (not in the source column). */
    record DispVm() implements QubeToken {
        @Override public String text() { return "@dispvm"; }
        @Override public boolean allowedIn(PolicyColumn c) { return c != PolicyColumn.SOURCE; }
    }

    /** {@code @type:CLASS}: the qubes of one class (source and target columns). */
    record TypeOf(String qubeClass) implements QubeToken {
        public TypeOf { requireValue(qubeClass); }
        @Override public String text() { return "@type:" + qubeClass; }
        @Override public boolean allowedIn(PolicyColumn c) { return c == PolicyColumn.SOURCE || c == PolicyColumn.TARGET; }
    }

    /** {@code @tag:TAG}: the qubes with a tag (source and target columns). */
    record Tagged(String tag) implements QubeToken {
        public Tagged { requireValue(tag); }
        @Override public String text() { return "@tag:" + tag; }
        @Override public boolean allowedIn(PolicyColumn c) { return c == PolicyColumn.SOURCE || c == PolicyColumn.TARGET; }
    }

    /** {@code @dispvm:NAME}: a new disposable of the disposable template NAME (everywhere). */
    record DispVmOf(String base) implements QubeToken {
        public DispVmOf { requireValue(base); }
        @Override public String text() { return "@dispvm:" + base; }
        @Override public boolean allowedIn(PolicyColumn c) { return true; }
    }

    /** {@code @dispvm:@tag:TAG}: a disposable of any disposable template with a tag (source and target). */
    record DispVmTagged(String tag) implements QubeToken {
        public DispVmTagged { requireValue(tag); }
        @Override public String text() { return "@dispvm:@tag:" + tag; }
        @Override public boolean allowedIn(PolicyColumn c) { return c == PolicyColumn.SOURCE || c == PolicyColumn.TARGET; }
    }

    /** A literal qube name, {@code dom0}, or {@code uuid:UUID} (everywhere). */
    record Named(String name) implements QubeToken {
        public Named {
            requireValue(name);
            if (name.startsWith("@") || name.equals("*")) {
                throw new IllegalArgumentException("not a qube name: " + name);
            }
        }
        @Override public String text() { return name; }
        @Override public boolean allowedIn(PolicyColumn c) { return true; }
    }

    private static void requireValue(String value) {
        if (Objects.requireNonNull(value, "value").isEmpty()) {
            throw new IllegalArgumentException("a token needs a value");
        }
    }
}
