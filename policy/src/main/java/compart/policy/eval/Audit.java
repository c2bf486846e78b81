package compart.policy.eval;

/**
 * The audit line of a decision, in the format Qubes writes to the journal:
 * {@code qrexec: SERVICE+ARG: SOURCE -> TARGET: allowed to X} or {@code ...: denied: REASON}.
 *
 * <p>Every character outside printable ASCII, and the backslash, is written as {@code \xNN} (or
 * {@code \\uNNNN}), so untrusted text in a request can neither forge a line nor smuggle terminal controls.
 */
public final class Audit {
    private Audit() {
    }

    /** @return {@code qrexec: SERVICE_AND_ARG: SOURCE -> TARGET:} (not yet escaped) */
    public static String prefix(String serviceAndArgument, String source, String target) {
        return "qrexec: " + serviceAndArgument + ": " + source + " -> " + target + ":";
    }

    /** @return the text with anything but printable ASCII escaped */
    public static String escape(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean plain = c >= 0x20 && c < 0x7f && c != '\\';
            if (plain) {
                if (b != null) b.append(c);
                continue;
            }
            if (b == null) b = new StringBuilder(s.length() + 16).append(s, 0, i);
            if (c == '\\') b.append("\\\\");
            else if (c < 0x100) b.append(String.format("\\x%02x", (int) c));
            else b.append(String.format("\\u%04x", (int) c));
        }
        return b == null ? s : b.toString();
    }
}
