package compart.policy.model;

import java.util.Objects;

/**
 * One policy rule, as parsed: {@code SERVICE ARGUMENT SOURCE TARGET ACTION [PARAM=VALUE ...]}.
 *
 * @param service  the service name, or null for {@code *}
 * @param argument the argument with its leading {@code +}, or null for {@code *}
 * @param source   a token legal in {@link PolicyColumn#SOURCE}
 * @param target   a token legal in {@link PolicyColumn#TARGET}
 * @param action   what the rule does
 * @param file     the file the rule came from, as Qubes names it in messages
 * @param line     the line in {@code file}, or null for the rules {@code !compat-4.0} adds implicitly
 */
public record Rule(String service, String argument, QubeToken source, QubeToken target, Action action,
                   String file, Integer line) {
    public Rule {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(file, "file");
        if (!source.allowedIn(PolicyColumn.SOURCE) || !target.allowedIn(PolicyColumn.TARGET)) {
            throw new IllegalArgumentException("token not allowed in its column");
        }
        if (argument != null && !argument.startsWith("+")) {
            throw new IllegalArgumentException("argument must start with +");
        }
    }

    /** @return {@code FILE:LINE} as Qubes prints it ({@code FILE:None} for implicit rules) */
    public String location() {
        return file + ":" + (line == null ? "None" : line.toString());
    }

    /** @return the rule in policy syntax (one line, tab separated) */
    public String toPolicyText() {
        StringBuilder b = new StringBuilder();
        b.append(service == null ? "*" : service).append('\t')
                .append(argument == null ? "*" : argument).append('\t')
                .append(source.text()).append('\t').append(target.text()).append('\t').append(action.keyword());
        switch (action) {
            case Action.Allow a -> {
                if (a.target() != null) b.append(" target=").append(a.target().text());
                if (a.user() != null) b.append(" user=").append(a.user());
            }
            case Action.Ask a -> {
                if (a.target() != null) b.append(" target=").append(a.target().text());
                if (a.defaultTarget() != null) b.append(" default_target=").append(a.defaultTarget().text());
                if (a.user() != null) b.append(" user=").append(a.user());
            }
            case Action.Deny d -> { }
        }
        return b.toString();
    }
}
