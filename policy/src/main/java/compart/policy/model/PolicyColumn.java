package compart.policy.model;

/**
 * The places of a policy where a qube can be named. Qubes allows each {@link QubeToken} kind only in some of
 * them (see {@link QubeToken#allowedIn(Column)}).
 */
public enum PolicyColumn {
    /** The third column of a rule: who calls. */
    SOURCE("source"),
    /** The fourth column of a rule: which target the caller asked for. */
    TARGET("target"),
    /** The {@code target=} and {@code default_target=} parameters of allow and ask. */
    REDIRECT("redirect"),
    /** The target a caller names in its request (not policy text). */
    REQUEST("intendedtarget");

    private final String qubesName;

    PolicyColumn(String qubesName) {
        this.qubesName = qubesName;
    }

    /** @return the word Qubes uses for this column in its messages ({@code source}, {@code redirect} ...) */
    public String qubesName() {
        return qubesName;
    }
}
