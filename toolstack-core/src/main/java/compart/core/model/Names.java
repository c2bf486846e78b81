package compart.core.model;

import compart.errors.CompartException;
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
        if (untrustedName == null || untrustedName.isEmpty()) {
            throw CompartException.invalidValue("qube name must not be empty");
        }
        if (untrustedName.length() > 31) {
            throw CompartException.invalidValue("qube name must be shorter than 32 characters: %s",
                    QubeClass.printable(untrustedName));
        }
        if (!QUBE.matcher(untrustedName).matches()) {
            char first = untrustedName.charAt(0);
            if (Character.isDigit(first) || first == '_' || first == '.' || first == '-') {
                throw CompartException.invalidValue(
                        "qube name cannot start with hyphen, underscore, dot or numbers: %s",
                        QubeClass.printable(untrustedName));
            }
            throw CompartException.invalidValue("qube name contains illegal characters: %s",
                    QubeClass.printable(untrustedName));
        }
        if (untrustedName.equals("Domain-0")) {
            throw CompartException.invalidValue("qube name cannot be 'Domain-0'");
        }
        if (untrustedName.equals("none") || untrustedName.equals("default")) {
            throw CompartException.invalidValue("qube name cannot be 'none' nor 'default'");
        }
        if (untrustedName.endsWith("-dm")) {
            throw CompartException.invalidValue("qube name cannot end with -dm: %s", untrustedName);
        }
        return untrustedName;
    }

    /**
     * @param untrustedTag a tag as received
     * @return the tag, now trusted
     * @throws CompartException INVALID_VALUE when empty or outside {@code [a-zA-Z0-9_-]}
     */
    public static String tag(String untrustedTag) {
        if (untrustedTag == null || untrustedTag.isEmpty()) {
            throw CompartException.invalidValue("tag cannot be empty");
        }
        if (!TAG.matcher(untrustedTag).matches()) {
            throw CompartException.invalidValue("tag contains disallowed characters (allowed: a-zA-Z0-9_-): %s",
                    QubeClass.printable(untrustedTag));
        }
        return untrustedTag;
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
