package compart.policy.daemon;

import compart.policy.Request;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * One request of the {@code qrexec-policy-daemon} protocol, as the qrexec daemon writes it: {@code KEY=VALUE}
 * lines ended by an empty line (or the end of the stream), keys {@code source}, {@code intended_target},
 * {@code service_and_arg} (required), {@code requested_source}, {@code assume_yes_for_ask},
 * {@code just_evaluate} (optional, the last two {@code yes} or {@code no}).
 *
 * @param request         the call
 * @param assumeYesForAsk answer an ask for the intended target
 * @param justEvaluate    answer only {@code result=allow} or {@code result=deny}
 */
public record DaemonRequest(Request request, boolean assumeYesForAsk, boolean justEvaluate) {

    private static final Set<String> REQUIRED = Set.of("source", "intended_target", "service_and_arg");
    private static final Set<String> ALLOWED = Set.of("source", "intended_target", "service_and_arg",
            "requested_source", "assume_yes_for_ask", "just_evaluate");

    /** Why a request was refused; the connection is then closed without an answer, as Qubes does. */
    public record Malformed(String reason) {
    }

    /**
     * Parses the request text (without its terminating empty line).
     *
     * @param untrustedLines the bytes received, lines separated by {@code \n}
     * @return a {@link DaemonRequest} or a {@link Malformed}
     */
    public static Object parse(byte[] untrustedLines) {
        for (byte b : untrustedLines) {
            if (b < 0) return new Malformed("request is not ASCII");
        }
        String text = new String(untrustedLines, StandardCharsets.US_ASCII);
        Map<String, String> args = new HashMap<>();
        for (String line : text.split("\n", -1)) {
            if (line.isEmpty()) break;
            int eq = line.indexOf('=');
            if (eq < 0) return new Malformed("line without '='");
            String key = line.substring(0, eq);
            String value = line.substring(eq + 1);
            if (args.containsKey(key)) return new Malformed("duplicate argument " + key);
            if (!ALLOWED.contains(key)) return new Malformed("unknown argument " + key);
            if ((key.equals("assume_yes_for_ask") || key.equals("just_evaluate"))
                    && !value.equals("yes") && !value.equals("no")) {
                return new Malformed("invalid bool value " + value + " for argument " + key);
            }
            args.put(key, value);
        }
        if (!args.keySet().containsAll(REQUIRED)) return new Malformed("required argument missing");
        String serviceAndArg = args.get("service_and_arg");
        Request request = Request.of(serviceAndArg, args.get("source"), args.get("intended_target"));
        String requested = args.get("requested_source");
        if (requested != null) {
            request = new Request(request.service(), request.argument(), request.source(), request.target(),
                    requested);
        }
        return new DaemonRequest(request, "yes".equals(args.get("assume_yes_for_ask")),
                "yes".equals(args.get("just_evaluate")));
    }
}
