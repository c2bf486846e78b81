package compart.policy;

import java.util.Objects;

/**
 * One problem found while loading policy: where, what Qubes would say, and what would fix it.
 *
 * <p>Any diagnostic makes a policy unusable: every call is then denied, naming the first one.
 *
 * @param file    the file (or directory) at fault, as given to the loader joined with the file name
 * @param line    the line number, or null when the problem is the file itself
 * @param message what is wrong, in the words Qubes uses
 * @param hint    what to change to fix it; may be empty
 */
public record Diagnostic(String file, Integer line, String message, String hint) {
    public Diagnostic {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(message, "message");
        hint = hint == null ? "" : hint;
    }

    /** @return {@code FILE:LINE}, or {@code FILE} when there is no line */
    public String location() {
        return line == null ? file : file + ":" + line;
    }

    /** @return {@code FILE:LINE: message (hint)}, the form lint prints and deny reasons quote */
    @Override
    public String toString() {
        return location() + ": " + message + (hint.isEmpty() ? "" : " (" + hint + ")");
    }
}
