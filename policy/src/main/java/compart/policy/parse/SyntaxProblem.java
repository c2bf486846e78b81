package compart.policy.parse;

/**
 * A syntax problem found on one line, before it is placed at its {@code FILE:LINE}.
 *
 * @param message what Qubes would say
 * @param hint    what to change
 */
public record SyntaxProblem(String message, String hint) {
}
