package compart.policy.parse;

import compart.policy.model.Action;
import compart.policy.model.PolicyColumn;
import compart.policy.model.QubeToken;
import compart.policy.model.Rule;
import compart.policy.parse.TokenParser.Failure;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Turns one policy line into a {@link Rule}, checking it in the order Qubes does so that the first problem
 * reported is the one Qubes would report: service and argument, source, target, action, parameters, then
 * the {@code @default}/{@code allow} special case.
 */
public final class RuleParser {
    private RuleParser() {
    }

    /** Characters Qubes allows in service names and arguments (the {@code +} only in arguments). */
    static boolean rpcNameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                || c == '+' || c == '-' || c == '.' || c == '_';
    }

    /** The outcome of reading one line: a rule, or the problem that stopped it. */
    public sealed interface Parsed {
        /** A rule. */
        record Ok(Rule rule) implements Parsed {
        }

        /** A problem. */
        record Error(SyntaxProblem problem) implements Parsed {
        }
    }

    /**
     * Reads a rule line of the v5 syntax, {@code SERVICE ARGUMENT SOURCE TARGET ACTION [PARAM=VALUE ...]}.
     *
     * @param line a stripped, non-comment, non-directive line
     */
    public static Parsed parseLine(String line, String file, Integer lineNo) {
        List<String> f = PyText.split(line);
        if (f.size() < 5) {
            return new Parsed.Error(new SyntaxProblem("wrong number of fields",
                    "a rule is SERVICE ARGUMENT SOURCE TARGET ACTION [PARAM=VALUE ...]; write * for any service "
                            + "or argument (found " + f.size() + " field" + (f.size() == 1 ? "" : "s") + ")"));
        }
        return build(f.get(0), f.get(1), f.get(2), f.get(3), f.get(4), f.subList(5, f.size()), file, lineNo);
    }

    /**
     * Reads a rule line of the old (R4.0) syntax used by {@code !include-service} and {@code !compat-4.0}:
     * {@code SOURCE TARGET ACTION[,PARAM=VALUE ...]} with {@code $} for {@code @} (already substituted).
     *
     * @param service  the service it applies to, null for any
     * @param argument the argument, null for any
     */
    public static Parsed parseServiceLine(String service, String argument, String line, String file,
                                          Integer lineNo) {
        List<String> f = PyText.split(line);
        List<String> rest = new ArrayList<>();
        for (int i = 2; i < f.size(); i++) {
            for (String p : f.get(i).split(",", -1)) rest.add(p);
        }
        if (f.size() < 2 || rest.isEmpty()) {
            return new Parsed.Error(new SyntaxProblem("wrong number of fields",
                    "a line of an included service file is SOURCE TARGET ACTION[,PARAM=VALUE ...]"));
        }
        return build(service == null ? "*" : service, argument == null ? "*" : argument, f.get(0), f.get(1),
                rest.get(0), rest.subList(1, rest.size()), file, lineNo);
    }

    /** A service and argument pair as checked by Qubes ({@code null} stands for {@code *}). */
    public record ServiceArgument(String service, String argument) {
    }

    /**
     * Checks a service and argument as written in policy ({@code *} for any).
     *
     * @throws Failure (internal) with the problem
     */
    static ServiceArgument checkServiceArgument(String service, String argument) {
        String svc = "*".equals(service) ? null : service;
        if (svc != null) {
            requireValidChars("service", svc, true,
                    "a service name may contain only letters, digits, '-', '.' and '_'");
        }
        String arg = "*".equals(argument) ? null : argument;
        if (arg != null) {
            requireValidChars("argument", arg, false,
                    "an argument is + followed by letters, digits, '+', '-', '.' and '_'");
            if (!arg.startsWith("+")) {
                throw new Failure("argument " + PyText.repr(arg) + " does not start with +",
                        "write +ARGUMENT, a lone + for the empty argument, or * for any argument");
            }
            if (svc == null) {
                throw new Failure("only * argument allowed for * service",
                        "with * as the service, write * as the argument too");
            }
        }
        return new ServiceArgument(svc, arg);
    }

    /** Public form of {@link #checkServiceArgument} for tools: null when fine, else the problem. */
    public static SyntaxProblem problemWithServiceArgument(String service, String argument) {
        try {
            checkServiceArgument(service, argument);
            return null;
        } catch (Failure e) {
            return e.problem;
        }
    }

    private static void requireValidChars(String what, String value, boolean noPlus, String hint) {
        String bad = invalidChars(value, noPlus);
        if (!bad.isEmpty()) {
            throw new Failure(what + " " + PyText.repr(value) + " contains invalid characters: " + bad, hint);
        }
    }

    /** The invalid characters in Python's tuple repr, sorted and unique, e.g. {@code ('!', '/')}; or "". */
    private static String invalidChars(String s, boolean noPlus) {
        TreeSet<String> bad = new TreeSet<>();
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            char c = s.charAt(i);
            if (cp > 0xffff || !rpcNameChar(c) || noPlus && c == '+') bad.add(new String(Character.toChars(cp)));
            i += Character.charCount(cp);
        }
        if (bad.isEmpty()) return "";
        List<String> items = new ArrayList<>();
        for (String b : bad) items.add(PyText.repr(b));
        return "(" + String.join(", ", items) + (items.size() == 1 ? ",)" : ")");
    }

    private static Parsed build(String service, String argument, String source, String target, String action,
                                List<String> params, String file, Integer lineNo) {
        try {
            ServiceArgument sa = checkServiceArgument(service, argument);
            QubeToken src = TokenParser.parse(source, PolicyColumn.SOURCE);
            QubeToken tgt = TokenParser.parse(target, PolicyColumn.TARGET);
            if (!action.equals("allow") && !action.equals("deny") && !action.equals("ask")) {
                throw new Failure("invalid action: " + action, "the action is allow, deny or ask");
            }
            Map<String, String> kw = new LinkedHashMap<>();
            for (String p : params) {
                int eq = p.indexOf('=');
                if (eq < 0) {
                    throw new Failure("invalid action parameter syntax: " + PyText.repr(p),
                            "write parameters as NAME=VALUE, separated by spaces");
                }
                String key = p.substring(0, eq);
                if (kw.containsKey(key)) {
                    throw new Failure("parameter given twice: " + PyText.repr(key), "give each parameter once");
                }
                kw.put(key, p.substring(eq + 1));
            }
            for (String key : List.of("notify", "autostart")) {
                String v = kw.get(key);
                if (v != null && !v.equals("yes") && !v.equals("no")) {
                    throw new Failure(PyText.repr(key) + " is " + PyText.repr(v) + ", but can be only 'yes' or 'no'",
                            "write " + key + "=yes or " + key + "=no");
                }
            }
            Action act = action(action, kw, params);
            if (tgt instanceof QubeToken.DefaultVm && act instanceof Action.Allow a && a.target() == null) {
                throw new Failure("allow action for @default rule must specify target= option",
                        "add target=QUBE to say which qube serves calls that name no target, or use ask");
            }
            return new Parsed.Ok(new Rule(sa.service(), sa.argument(), src, tgt, act, file, lineNo));
        } catch (Failure e) {
            return new Parsed.Error(e.problem);
        }
    }

    private static Action action(String name, Map<String, String> kw, List<String> params) {
        List<String> allowed = switch (name) {
            case "allow" -> List.of("target", "user", "notify", "autostart");
            case "ask" -> List.of("target", "default_target", "user", "notify", "autostart");
            default -> List.of("notify");
        };
        for (String key : kw.keySet()) {
            if (!allowed.contains(key)) {
                String cls = Character.toUpperCase(name.charAt(0)) + name.substring(1);
                throw new Failure("invalid parameters for action " + cls + ": " + PyText.repr(params),
                        name + " takes only " + String.join("=, ", allowed) + "= (" + PyText.repr(key)
                                + " is not one of them)");
            }
        }
        String notify = kw.get("notify");
        String autostart = kw.get("autostart");
        return switch (name) {
            case "allow" -> new Action.Allow(redirect(kw.get("target")), kw.get("user"),
                    "yes".equals(notify), !"no".equals(autostart));
            case "ask" -> {
                QubeToken target = redirect(kw.get("target"));
                QubeToken defaultTarget = redirect(kw.get("default_target"));
                yield new Action.Ask(target, defaultTarget, kw.get("user"), "yes".equals(notify),
                        !"no".equals(autostart));
            }
            default -> new Action.Deny(!"no".equals(notify));
        };
    }

    private static QubeToken redirect(String value) {
        return value == null ? null : TokenParser.parse(value, PolicyColumn.REDIRECT);
    }
}
