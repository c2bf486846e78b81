package compart.core.backup;

import compart.errors.CompartException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A backup profile, {@code /etc/qubes/backup/NAME.conf}: the YAML Qubes' {@code qvm-backup} writes
 * ({@code yaml.safe_dump} of a flat mapping: scalars and lists of names). Only that subset is read.
 *
 * @param include the qubes to back up ({@code null}: every qube with {@code include_in_backups})
 * @param exclude the qubes left out
 * @param destinationVm where the backup goes ({@code dom0}: a file)
 * @param destinationPath the file, or a directory to create {@code qubes-DATE} in
 * @param compression whether to compress
 * @param passphraseText the passphrase, or {@code null} when the profile names none
 */
public record BackupProfile(List<String> include, List<String> exclude, String destinationVm,
                            String destinationPath, boolean compression, String passphraseText) {

    /** Copies the lists. */
    public BackupProfile {
        include = include == null ? null : List.copyOf(include);
        exclude = List.copyOf(exclude);
    }

    /**
     * @param untrusted the profile's text
     * @return the profile
     * @throws CompartException INVALID_VALUE with Qubes' message when a required key is missing or the text is
     *         not the YAML subset
     */
    public static BackupProfile parse(String untrusted) {
        Map<String, Object> values = new LinkedHashMap<>();
        String listKey = null;
        for (String raw : untrusted.split("\n")) {
            String line = raw.stripTrailing();
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("- ") || line.startsWith("  - ")) {
                if (listKey == null) {
                    throw CompartException.invalidValue("Invalid backup profile: a list item outside a list");
                }
                @SuppressWarnings("unchecked")
                List<String> list = (List<String>) values.get(listKey);
                list.add(scalar(line.substring(line.indexOf("- ") + 2)));
                continue;
            }
            int colon = line.indexOf(':');
            if (colon < 1 || Character.isWhitespace(line.charAt(0))) {
                throw CompartException.invalidValue("Invalid backup profile: line '%s'", line);
            }
            String key = line.substring(0, colon);
            String value = line.substring(colon + 1).strip();
            if (value.isEmpty()) {
                values.put(key, new ArrayList<String>());
                listKey = key;
            } else {
                listKey = null;
                values.put(key, value.equals("[]") ? new ArrayList<String>() : value.equals("null") ? null
                        : scalar(value));
            }
        }
        for (String required : List.of("destination_vm", "destination_path", "include")) {
            if (!values.containsKey(required)) {
                throw CompartException.invalidValue("Invalid backup profile - missing '%s'", required);
            }
        }
        Object include = values.get("include");
        Object exclude = values.getOrDefault("exclude", List.of());
        Object compression = values.getOrDefault("compression", "true");
        return new BackupProfile(include == null ? null : list(include, "include"), list(exclude, "exclude"),
                text(values.get("destination_vm"), "destination_vm"),
                text(values.get("destination_path"), "destination_path"),
                !(compression instanceof String c) || !c.equalsIgnoreCase("false"),
                values.get("passphrase_text") instanceof String p ? p : null);
    }

    private static String scalar(String v) {
        if (v.length() >= 2 && (v.startsWith("'") && v.endsWith("'") || v.startsWith("\"") && v.endsWith("\""))) {
            return v.substring(1, v.length() - 1).replace("''", "'");
        }
        return v;
    }

    @SuppressWarnings("unchecked")
    private static List<String> list(Object o, String key) {
        if (o instanceof List<?> l) {
            return (List<String>) l;
        }
        throw CompartException.invalidValue("Invalid backup profile - '%s' must be a list", key);
    }

    private static String text(Object o, String key) {
        if (o instanceof String s) {
            return s;
        }
        throw CompartException.invalidValue("Invalid backup profile - missing '%s'", key);
    }
}
