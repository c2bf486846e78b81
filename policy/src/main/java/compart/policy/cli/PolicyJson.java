package compart.policy.cli;

import java.util.List;

/** Writes the few JSON shapes the commands print: flat objects of strings, booleans, numbers and lists. */
final class PolicyJson {
    private final StringBuilder b;
    private boolean first = true;

    PolicyJson(StringBuilder b) {
        this.b = b;
        b.append('{');
    }

    PolicyJson field(String key, Object value) {
        if (!first) b.append(", ");
        first = false;
        string(b, key);
        b.append(": ");
        value(b, value);
        return this;
    }

    void end() {
        b.append('}');
    }

    private static void value(StringBuilder b, Object v) {
        switch (v) {
            case null -> b.append("null");
            case String s -> string(b, s);
            case Boolean bool -> b.append(bool.booleanValue());
            case Number n -> b.append(n);
            case List<?> list -> {
                b.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) b.append(", ");
                    value(b, list.get(i));
                }
                b.append(']');
            }
            default -> string(b, v.toString());
        }
    }

    static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c >= 0x7f && c < 0xa0 || Character.isSurrogate(c)) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
