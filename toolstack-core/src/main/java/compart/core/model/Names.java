package compart.core.model;

import compart.errors.CompartException;
import compart.errors.Refusal;
import java.util.regex.Pattern;

/** Validation of the untrusted names the Admin API receives: qube names, tags, feature names. */
public final class Names {
    private static final Pattern QUBE = Pattern.compile("[a-zA-Z][a-zA-Z0-9_.-]*");
    private static final Pattern TAG = Pattern.compile("[a-zA-Z0-9_-]+");
    private static final Pattern FEATURE = Pattern.compile("[a-zA-Z0-9_.-]+");

    private Names() {
    }

    /**
     * Checks a qube name as Qubes does: at most 31 characters, starts with a letter, then letters, digits, {@code _.-};
     * not {@code Domain-0}, {@code none} or {@code default}, and not ending in {@code -dm}.
     *
     * @param untrustedName the name as received
     * @return the same name, now trusted
     * @throws CompartException INVALID_VALUE saying which rule the name breaks
     */
    public static String qube(String untrustedName) {
        // Qubes' words, and its class: a malformed name is a QubesValueError wherever it is given.
        if (untrustedName == null || untrustedName.isEmpty()) {
            throw malformed("VM name contains illegal characters");
        }
        if (untrustedName.length() > 31) {
            throw malformed("VM name must be shorter than 32 characters");
        }
        if (!QUBE.matcher(untrustedName).matches()) {
            char first = untrustedName.charAt(0);
            if (Character.isDigit(first) || first == '_' || first == '.' || first == '-') {
                throw malformed("VM name cannot start with hyphen, underscore, dot or numbers");
            }
            throw malformed("VM name contains illegal characters");
        }
        if (untrustedName.equals("Domain-0")) {
            throw malformed("VM name cannot be 'Domain-0'");
        }
        if (untrustedName.equals("none") || untrustedName.equals("default")) {
            throw malformed("VM name cannot be 'none' nor 'default'");
        }
        if (untrustedName.endsWith("-dm")) {
            throw malformed("VM name cannot end with -dm");
        }
        return untrustedName;
    }

    /**
     * A string as Python's {@code repr} writes it (Qubes' messages quote values so): single quotes unless the text
     * has one and no double quote, backslash escapes for quotes, backslashes and control characters.
     *
     * @param s ASCII text
     * @return the quoted text
     */
    public static String repr(String s) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        var b = new StringBuilder().append(q);
        for (char c : s.toCharArray()) {
            switch (c) {
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c == q) {
                        b.append('\\').append(c);
                    } else if (c < 0x20 || c == 0x7f) {
                        b.append(String.format("\\x%02x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append(q).toString();
    }

    /** @return a QubesValueError-class refusal of a malformed value */
    static CompartException malformed(String format, Object... args) {
        return Refusal.MALFORMED_VALUE.exception(format, args);
    }

    /**
     * @param untrustedTag a tag as received
     * @return the tag, now trusted
     * @throws CompartException INVALID_VALUE when empty or outside {@code [a-zA-Z0-9_-]}
     */
    public static String tag(String untrustedTag) {
        return matching(untrustedTag, TAG, "tag cannot be empty",
                "tag contains disallowed characters (allowed: a-zA-Z0-9_-)");
    }

    /**
     * The check of the names that are a non-empty run of allowed characters (tags, label names).
     *
     * @param untrusted the text as received
     * @param allowed   the whole text must match it
     * @param ifEmpty   the message when the text is null or empty
     * @param ifIllegal the message when it does not match, followed by {@code ": "} and the text made printable
     * @return the text, now trusted
     * @throws CompartException INVALID_VALUE with one of the two messages
     */
    static String matching(String untrusted, Pattern allowed, String ifEmpty, String ifIllegal) {
        if (untrusted == null || untrusted.isEmpty()) {
            throw CompartException.invalidValue("%s", ifEmpty);
        }
        if (!allowed.matcher(untrusted).matches()) {
            throw CompartException.invalidValue("%s: %s", ifIllegal, QubeClass.printable(untrusted));
        }
        return untrusted;
    }

    /**
     * @param untrustedName a feature name as received
     * @return the name, now trusted
     * @throws CompartException INVALID_VALUE when empty or outside {@code [a-zA-Z0-9_.-]}
     */
    public static String feature(String untrustedName) {
        if (untrustedName == null || !FEATURE.matcher(untrustedName).matches()) {
            throw CompartException.invalidValue("feature name contains illegal characters: %s",
                    QubeClass.printable(untrustedName));
        }
        return untrustedName;
    }

    /**
     * @param untrustedValue a feature value as received
     * @return the value, now trusted
     * @throws CompartException INVALID_VALUE when it has characters outside printable ASCII
     */
    public static String featureValue(String untrustedValue) {
        for (int i = 0; i < untrustedValue.length(); i++) {
            char c = untrustedValue.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                throw CompartException.invalidValue("feature value contains illegal characters");
            }
        }
        return untrustedValue;
    }
}
