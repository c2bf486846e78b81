package compart.core.qubesdb;

import compart.errors.CompartException;
import compart.errors.ErrorKind;

/**
 * The rules QubesDB applies to paths. Any path of a message: shorter than {@link QdbCodec#MAX_PATH} bytes
 * (it travels NUL-terminated in a 64-byte field), only {@code [A-Za-z0-9_/.:@-]}, no leading dash. A path that
 * names an entry also starts with '/' and does not end with '/' (a trailing '/' names a directory: RM removes
 * everything under it, MULTIREAD reads it).
 */
public final class QdbPath {
    private QdbPath() {
    }

    /** @return whether {@code untrusted} is acceptable as the path of a message */
    public static boolean valid(String untrusted) {
        if (untrusted.length() >= QdbCodec.MAX_PATH) {
            return false;
        }
        for (int i = 0; i < untrusted.length(); i++) {
            char c = untrusted.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || c == '_' || c == '/' || c == '.' || c == ':' || c == '@' || c == '-' && i > 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** @return whether {@code untrusted} names an entry: a valid path, starting with '/', not ending with '/' */
    public static boolean validEntry(String untrusted) {
        return valid(untrusted) && untrusted.startsWith("/") && !untrusted.endsWith("/");
    }

    /**
     * @return {@code path} when it is acceptable as the path of a message
     * @throws CompartException PROTOCOL otherwise
     */
    public static String check(String path) {
        if (!valid(path)) {
            throw new CompartException(ErrorKind.PROTOCOL, "qubesdb: invalid path '" + printable(path)
                    + "': at most " + (QdbCodec.MAX_PATH - 1) + " characters of [A-Za-z0-9_/.:@-], no leading '-'");
        }
        return path;
    }

    /**
     * @return {@code path} when it names an entry
     * @throws CompartException PROTOCOL otherwise
     */
    public static String checkEntry(String path) {
        check(path);
        if (!validEntry(path)) {
            throw new CompartException(ErrorKind.PROTOCOL, "qubesdb: '" + path
                    + "' names no entry: an entry's path starts with '/' and does not end with '/'");
        }
        return path;
    }

    /** @return the text with anything outside printable ASCII shown as '?', cut at 80 characters (for logs) */
    static String printable(String untrusted) {
        var b = new StringBuilder();
        for (int i = 0; i < Math.min(untrusted.length(), 80); i++) {
            char c = untrusted.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return b.toString();
    }
}
