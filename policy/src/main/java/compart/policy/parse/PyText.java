package compart.policy.parse;

import java.util.ArrayList;
import java.util.List;

/**
 * The few Python string operations the Qubes parser relies on, reproduced so that we split a line into exactly
 * the same fields: {@code str.strip()}, {@code str.split()} (Unicode whitespace as Python defines it) and
 * {@code repr()} for quoting values in messages.
 */
public final class PyText {
    private PyText() {
    }

    /** @return whether Python's {@code str.isspace()} holds for {@code c} */
    public static boolean isSpace(char c) {
        return Character.isWhitespace(c) || c == '\u0085' || c == '\u00a0' || c == '\u2007' || c == '\u202f';
    }

    /** Python's {@code s.strip()}. */
    public static String strip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isSpace(s.charAt(start))) start++;
        while (end > start && isSpace(s.charAt(end - 1))) end--;
        return s.substring(start, end);
    }

    /** Python's {@code s.split()}: fields separated by runs of whitespace, none empty. */
    public static List<String> split(String s) {
        List<String> out = new ArrayList<>(8);
        int n = s.length();
        int i = 0;
        while (i < n) {
            while (i < n && isSpace(s.charAt(i))) i++;
            if (i >= n) break;
            int start = i;
            while (i < n && !isSpace(s.charAt(i))) i++;
            out.add(s.substring(start, i));
        }
        return out;
    }

    /** Python's {@code repr(s)} for a str: quoted, with non-printable characters escaped. */
    public static String repr(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder b = new StringBuilder(s.length() + 2).append(quote);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == quote || c == '\\') b.append('\\').append(c);
            else if (c == '\n') b.append("\\n");
            else if (c == '\r') b.append("\\r");
            else if (c == '\t') b.append("\\t");
            else if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
            else if (c >= 0x80 && (Character.isISOControl(c) || Character.isSurrogate(c)
                    || Character.getType(c) == Character.UNASSIGNED || isSpace(c))) {
                b.append(c <= 0xff ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c));
            } else b.append(c);
        }
        return b.append(quote).toString();
    }

    /** Python's repr of a list of str, as in {@code ['a=1', 'b']}. */
    public static String repr(List<String> items) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) b.append(", ");
            b.append(repr(items.get(i)));
        }
        return b.append(']').toString();
    }
}
