package compart.policy.parse;

import compart.policy.model.PolicyColumn;
import compart.policy.model.QubeToken;
import java.util.List;
import java.util.function.Function;

/**
 * Reads one qube token for one {@link PolicyColumn}, accepting exactly the kinds Qubes accepts there.
 *
 * <p>Text not starting with {@code @} (and not {@code *}) is a qube name, whatever its characters, as in Qubes.
 * Keywords are tried exact first, then by prefix ({@code @type:}, {@code @tag:}, {@code @dispvm:},
 * {@code @dispvm:@tag:}); a prefix whose value starts with {@code @} gives way to a longer prefix.
 */
public final class TokenParser {
    private TokenParser() {
    }

    private record Prefix(String prefix, Function<String, QubeToken> make) {
    }

    private static final List<QubeToken> EXACT = List.of(new QubeToken.Wildcard(), new QubeToken.AdminVm(),
            new QubeToken.AnyVm(), new QubeToken.DefaultVm(), new QubeToken.DispVm());

    private static final List<Prefix> PREFIXES = List.of(
            new Prefix("@type:", QubeToken.TypeOf::new),
            new Prefix("@tag:", QubeToken.Tagged::new),
            new Prefix("@dispvm:", QubeToken.DispVmOf::new),
            new Prefix("@dispvm:@tag:", QubeToken.DispVmTagged::new));

    private static final List<QubeToken> PREFIX_SAMPLES = List.of(new QubeToken.TypeOf("x"),
            new QubeToken.Tagged("x"), new QubeToken.DispVmOf("x"), new QubeToken.DispVmTagged("x"));

    /** Whether the kind of the i-th prefix is legal in a column (asked of a sample token of that kind). */
    private static boolean prefixAllowed(int i, PolicyColumn column) {
        return PREFIX_SAMPLES.get(i).allowedIn(column);
    }

    /** Thrown inside the parser only, to carry a {@link SyntaxProblem} to the line that is being read. */
    static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient SyntaxProblem problem;

        Failure(String message, String hint) {
            super(message, null, false, false);
            this.problem = new SyntaxProblem(message, hint);
        }
    }

    /**
     * @return the token
     * @throws Failure (internal) when the text is not a token legal in the column
     */
    static QubeToken parse(String text, PolicyColumn column) {
        if (text.isEmpty()) {
            throw new Failure("invalid empty " + column.qubesName() + " token", hint(column));
        }
        if (!(text.startsWith("@") || text.equals("*"))) {
            return new QubeToken.Named(text);
        }
        for (QubeToken t : EXACT) {
            if (t.allowedIn(column) && t.text().equals(text)) return t;
        }
        for (int i = 0; i < PREFIXES.size(); i++) {
            Prefix p = PREFIXES.get(i);
            if (!text.startsWith(p.prefix()) || !prefixAllowed(i, column)) continue;
            String value = text.substring(p.prefix().length());
            if (value.isEmpty()) {
                throw new Failure("invalid empty " + p.prefix() + " token: " + PyText.repr(text),
                        "write a value after " + p.prefix());
            }
            if (value.startsWith("@")) continue;
            return p.make().apply(value);
        }
        throw new Failure("invalid " + column.qubesName() + " token: " + PyText.repr(text), hint(column));
    }

    /**
     * Reads a token for callers outside the parser (requests, tools).
     *
     * @return the token, or null with {@code problem[0]} set when the text is not legal in the column
     */
    public static QubeToken parseOrNull(String text, PolicyColumn column, SyntaxProblem[] problem) {
        try {
            return parse(text, column);
        } catch (Failure f) {
            if (problem != null && problem.length > 0) problem[0] = f.problem;
            return null;
        }
    }

    static String hint(PolicyColumn column) {
        return switch (column) {
            case SOURCE -> "in the source column write a qube name, uuid:UUID, *, @anyvm, @adminvm, "
                    + "@tag:TAG, @type:CLASS, @dispvm:NAME or @dispvm:@tag:TAG";
            case TARGET -> "in the target column write a qube name, uuid:UUID, *, @anyvm, @adminvm, @default, "
                    + "@tag:TAG, @type:CLASS, @dispvm, @dispvm:NAME or @dispvm:@tag:TAG";
            case REDIRECT -> "target= and default_target= take a qube name, uuid:UUID, @adminvm, @dispvm "
                    + "or @dispvm:NAME";
            case REQUEST -> "a call may name a qube, uuid:UUID, @adminvm, @default, @dispvm or @dispvm:NAME";
        };
    }
}
