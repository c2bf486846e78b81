package compart.core.api;

/** Rendering of untrusted text in messages: printable ASCII only, at most 64 characters. */
final class QubeClassNames {
    private QubeClassNames() {
    }

    static String printable(String s) {
        var b = new StringBuilder();
        for (int i = 0; i < s.length() && i < 64; i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return s.length() > 64 ? b + "..." : b.toString();
    }
}
