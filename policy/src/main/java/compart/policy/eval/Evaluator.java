package compart.policy.eval;

import compart.policy.QubeInfo;
import compart.policy.Request;
import compart.policy.Resolution;
import compart.policy.SystemInfo;
import compart.policy.model.Action;
import compart.policy.model.PolicyColumn;
import compart.policy.model.QubeToken;
import compart.policy.model.Rule;
import compart.policy.parse.SyntaxProblem;
import compart.policy.parse.TokenParser;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Decides calls against a list of rules with the semantics of Qubes' {@code qrexec.policy.parser}: the first
 * matching rule decides, no match denies; {@code allow} follows {@code target=}, refuses {@code @default}
 * without a target, turns {@code @dispvm} into the caller's {@code default_dispvm} and refuses to start a
 * halted target under {@code autostart=no}; {@code ask} offers the targets every matching rule allows (walked
 * from the last rule up, a deny taking targets away), never the caller nor internal qubes.
 *
 * <p>Immutable and thread safe: one instance serves any number of concurrent decisions.
 */
public final class Evaluator {
    private final List<Rule> rules;
    private final RuleIndex index;

    /** @param rules the rules in policy order */
    public Evaluator(List<Rule> rules) {
        this.rules = List.copyOf(rules);
        this.index = new RuleIndex(this.rules);
    }

    /** @return the number of rules */
    public int size() {
        return rules.size();
    }

    /** A request whose target was checked and whose relayed source was substituted. */
    private record Call(Request raw, String service, String argument, String source, QubeToken target) {
    }

    /**
     * Decides one call.
     *
     * @param assumeYesForAsk answer an {@code ask} as if the user chose the target the caller named (the
     *                        daemon's {@code assume_yes_for_ask=yes})
     */
    public Resolution evaluate(Request request, SystemInfo sys, boolean assumeYesForAsk) {
        String source = request.source();
        if (request.requestedSource() != null) {
            String rs = request.requestedSource();
            QubeInfo remote = sys.find(rs);
            if (remote == null) return deny(request, null, "unknown requested source qube '" + rs + "'", true);
            if (!"RemoteVM".equals(remote.type())) {
                return deny(request, null, rs + ": requested source is only authorized for RemoteVM", true);
            }
            if (!source.equals(remote.relayVm())) {
                return deny(request, null, source + " is not a relay for " + rs, true);
            }
            source = rs;
        }
        if (sys.find(source) == null) { // fail closed: Qubes' evaluation fails on a source it does not know
            return deny(request, null, "source qube '" + source + "' is not known to the system", true);
        }
        String targetText = request.target().isEmpty() ? "@default" : request.target();
        QubeToken target;
        if (targetText.startsWith("@") || targetText.equals("*")) {
            SyntaxProblem[] problem = new SyntaxProblem[1];
            target = TokenParser.parseOrNull(targetText, PolicyColumn.REQUEST, problem);
            if (target == null) return deny(request, null, problem[0].message(), true);
            if (target instanceof QubeToken.DispVmOf d && !isDispVmTemplate(sys, d.base())) {
                return deny(request, null, "not a template for dispvm: " + d.base(), true);
            }
        } else {
            target = sys.find(targetText) == null ? new QubeToken.DefaultVm() : new QubeToken.Named(targetText);
        }
        Call call = new Call(request, request.service(), request.argument(), source, target);

        int match = firstMatch(call, sys);
        if (match < 0) return deny(request, null, "no matching rule found", true);
        Rule rule = rules.get(match);
        return switch (rule.action()) {
            case Action.Deny d -> deny(request, rule, "denied by policy " + rule.location(), d.notifyUser());
            case Action.Allow a -> allow(call, sys, rule, a);
            case Action.Ask a -> ask(call, sys, rule, a, assumeYesForAsk);
        };
    }

    // ------------------------------------------------------------------ matching

    private int firstMatch(Call call, SystemInfo sys) {
        RuleIndex.Cursor c = index.candidates(call.service(), call.argument(), plainName(sys, call.source()),
                call.target() instanceof QubeToken.Named n ? plainName(sys, n.name()) : null);
        for (int i = c.next(); i >= 0; i = c.next()) {
            if (matches(rules.get(i), call, sys)) return i;
        }
        return -1;
    }

    /**
     * The first matching rule by a plain scan of every rule: the reference the index must agree with.
     *
     * @return the rule number, or -1; or -2 when the request is refused before any rule is looked at
     */
    public int firstMatchByScan(Request request, SystemInfo sys) {
        Call call = callOrNull(request, sys);
        if (call == null) return -2;
        for (int i = 0; i < rules.size(); i++) {
            if (matches(rules.get(i), call, sys)) return i;
        }
        return -1;
    }

    /** Like {@link #firstMatchByScan} but through the index. */
    public int firstMatchByIndex(Request request, SystemInfo sys) {
        Call call = callOrNull(request, sys);
        return call == null ? -2 : firstMatch(call, sys);
    }

    private Call callOrNull(Request request, SystemInfo sys) {
        Resolution r = evaluate(request, sys, false);
        if (r.rule() == null && !(r instanceof Resolution.Deny d && d.reason().equals("no matching rule found"))) {
            return null;
        }
        String source = request.requestedSource() != null ? request.requestedSource() : request.source();
        String t = request.target().isEmpty() ? "@default" : request.target();
        QubeToken target = t.startsWith("@") ? TokenParser.parseOrNull(t, PolicyColumn.REQUEST, null)
                : sys.find(t) == null ? new QubeToken.DefaultVm() : new QubeToken.Named(t);
        return new Call(request, request.service(), request.argument(), source, target);
    }

    private static boolean matches(Rule r, Call call, SystemInfo sys) {
        return matchesButTarget(r, call, sys) && Matcher.matchesTarget(r.target(), call.target(), call.source(), sys);
    }

    private static boolean matchesButTarget(Rule r, Call call, SystemInfo sys) {
        return (r.service() == null || r.service().equals(call.service()))
                && (r.argument() == null || r.argument().equals(call.argument()))
                && Matcher.matchesSource(r.source(), call.source(), sys);
    }

    /** The plain name a literal rule token would have to equal, or null when no literal can match. */
    private static String plainName(SystemInfo sys, String name) {
        if (QubeToken.isDom0(name)) return null;
        if (name.startsWith("uuid:")) {
            QubeInfo q = sys.find(name);
            return q == null ? null : q.name();
        }
        return name;
    }

    // ------------------------------------------------------------------ actions

    private Resolution allow(Call call, SystemInfo sys, Rule rule, Action.Allow a) {
        QubeToken t = call.target();
        if (a.target() != null) {
            t = a.target();
            if (t instanceof QubeToken.Named n && sys.find(n.name()) == null) t = new QubeToken.DefaultVm();
            if (t instanceof QubeToken.DispVmOf d && !isDispVmTemplate(sys, d.base())) {
                return deny(call.raw(), rule, "not a template for dispvm: " + d.base(), true);
            }
        }
        String target;
        if (t instanceof QubeToken.DefaultVm) {
            return deny(call.raw(), rule, "policy define 'allow' action at " + rule.location()
                    + " but no target is specified by caller or policy", true);
        } else if (t instanceof QubeToken.DispVm) {
            String base = Matcher.defaultDispVm(sys, call.source());
            if (base == null) {
                return deny(call.raw(), rule, "policy define 'allow' action to @dispvm at " + rule.location()
                        + " but no DispVM base is set for this VM", true);
            }
            target = "@dispvm:" + base;
        } else if (t instanceof QubeToken.AdminVm) {
            target = "dom0";
        } else {
            target = t.text();
        }
        if (!a.autostart() && !runsWithoutAutostart(sys, target)) {
            return deny(call.raw(), rule, "target " + target + " is denied because it would require autostart",
                    a.notifyUser());
        }
        return allowed(call, sys, rule, target, a.user(), a.notifyUser(), a.autostart());
    }

    private Resolution ask(Call call, SystemInfo sys, Rule rule, Action.Ask a, boolean assumeYes) {
        List<String> targets;
        if (a.target() != null) {
            targets = List.of(QubeToken.isDom0(a.target().text()) ? "dom0" : a.target().text());
        } else {
            targets = targetsForAsk(call, sys);
        }
        if (!a.autostart()) {
            targets = targets.stream().filter(t -> runsWithoutAutostart(sys, t)).toList();
        }
        if (targets.isEmpty()) {
            return deny(call.raw(), rule, "policy define 'ask' action at " + rule.location()
                    + " but no target is available to choose from", true);
        }
        String defaultTarget = null;
        if (a.defaultTarget() instanceof QubeToken.DispVm) {
            String base = Matcher.defaultDispVm(sys, call.source());
            defaultTarget = base == null ? null : "@dispvm:" + base;
        } else if (a.defaultTarget() != null) {
            defaultTarget = QubeToken.isDom0(a.defaultTarget().text()) ? "dom0" : a.defaultTarget().text();
        }
        if (defaultTarget != null && !targets.contains(defaultTarget)) defaultTarget = null;
        List<String> sorted = targets.stream().sorted().toList();
        if (assumeYes) {
            String wanted = call.target().text();
            if (!targets.contains(wanted)) {
                return deny(call.raw(), rule, "target " + wanted + " is not a valid choice", true);
            }
            return allowed(call, sys, rule, wanted, a.user(), a.notifyUser(), a.autostart());
        }
        String log = Audit.prefix(call.raw().service() + call.raw().argument(), call.raw().source(),
                call.raw().target()) + " ask for one of " + String.join(", ", sorted)
                + (defaultTarget == null ? "" : " (default " + defaultTarget + ")");
        return new Resolution.Ask(rule.location(), sorted, defaultTarget, a.user(), a.notifyUser(), a.autostart(),
                Audit.escape(log));
    }

    /** Qubes' {@code collect_targets_for_ask}. */
    private List<String> targetsForAsk(Call call, SystemInfo sys) {
        Set<String> targets = new HashSet<>();
        int[] candidates = index.candidatesIgnoringTarget(call.service(), call.argument(),
                plainName(sys, call.source())).drain();
        for (int k = candidates.length - 1; k >= 0; k--) {
            Rule r = rules.get(candidates[k]);
            if (!matchesButTarget(r, call, sys)) continue;
            QubeToken ruleTarget = switch (r.action()) {
                case Action.Allow a when a.target() != null -> a.target();
                case Action.Ask a when a.target() != null -> a.target();
                default -> r.target();
            };
            List<String> expansion = expand(ruleTarget, sys);
            if (r.action() instanceof Action.Deny) targets.removeAll(expansion);
            else targets.addAll(expansion);
        }
        if (targets.remove("@dispvm")) {
            String base = Matcher.defaultDispVm(sys, call.source());
            if (base != null) targets.add("@dispvm:" + base);
        }
        if (targets.remove("@adminvm")) targets.add("dom0");
        QubeInfo src = sys.find(call.source());
        targets.remove(src != null ? src.name() : call.source());
        if (src != null && src.uuid() != null) targets.remove("uuid:" + src.uuid());
        List<String> out = new ArrayList<>();
        for (String t : targets) {
            String name = t.startsWith("@dispvm:") ? t.substring(8) : t;
            QubeInfo q = sys.find(name);
            if (q != null && !q.internal()) out.add(t);
        }
        return out;
    }

    /** Qubes' {@code expand}: the targets a rule's target token could stand for, as names. */
    private static List<String> expand(QubeToken token, SystemInfo sys) {
        List<String> out = new ArrayList<>();
        switch (token) {
            case QubeToken.Named n -> {
                QubeInfo q = sys.find(n.name());
                if (q != null) out.add(n.name().startsWith("uuid:") ? q.name() : n.name());
            }
            case QubeToken.Wildcard w -> {
                for (QubeInfo q : sys.qubes().values()) {
                    out.add(q.name());
                    if (q.templateForDispVms()) out.add("@dispvm:" + q.name());
                }
                out.add("@dispvm");
            }
            case QubeToken.AnyVm a -> {
                for (QubeInfo q : sys.qubes().values()) {
                    if (!QubeToken.isDom0(q.name())) out.add(q.name());
                    if (q.templateForDispVms()) out.add("@dispvm:" + q.name());
                }
                out.add("@dispvm");
            }
            case QubeToken.AdminVm a -> out.add("@adminvm");
            case QubeToken.DefaultVm d -> { }
            case QubeToken.TypeOf t -> {
                for (QubeInfo q : sys.qubes().values()) if (q.type().equals(t.qubeClass())) out.add(q.name());
            }
            case QubeToken.Tagged t -> {
                for (QubeInfo q : sys.qubes().values()) if (q.tags().contains(t.tag())) out.add(q.name());
            }
            case QubeToken.DispVm d -> out.add("@dispvm");
            case QubeToken.DispVmOf d -> {
                QubeInfo q = sys.find(d.base());
                if (q != null && q.templateForDispVms()) out.add("@dispvm:" + q.name());
            }
            case QubeToken.DispVmTagged d -> {
                for (QubeInfo q : sys.qubes().values()) {
                    if (q.templateForDispVms() && q.tags().contains(d.tag())) out.add("@dispvm:" + q.name());
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ outcomes

    private static boolean isDispVmTemplate(SystemInfo sys, String name) {
        QubeInfo q = sys.find(name);
        return q != null && q.templateForDispVms();
    }

    /** Qubes' {@code allow_no_autostart}: may the call go to this target without starting anything? */
    private static boolean runsWithoutAutostart(SystemInfo sys, String target) {
        if (QubeToken.isDom0(target)) return true;
        if (target.startsWith("@dispvm")) return false;
        QubeInfo q = sys.find(target);
        return q != null && q.running();
    }

    /** Qubes' {@code AllowResolution.execute}: the daemon's answer, or the deny it turns into. */
    private static Resolution allowed(Call call, SystemInfo sys, Rule rule, String target, String user,
                                      boolean notifyUser, boolean autostart) {
        Request raw = call.raw();
        if (call.source().equals(target)) {
            return deny(raw, rule, "loopback qrexec connection not supported", true);
        }
        String requested = call.target().text();
        String auto = autostart ? "True" : "False";
        String policySource = raw.requestedSource() != null ? "\npolicy_source=" + call.source() : "";
        String userLine = "user=" + (user == null || user.isEmpty() ? "DEFAULT" : user);
        String wire;
        if (QubeToken.isDom0(target)) {
            wire = userLine + "\nresult=allow\ntarget=dom0\nautostart=" + auto + "\nrequested_target=" + requested;
        } else if (target.startsWith("@dispvm:")) {
            QubeInfo base = sys.find(target.substring(8));
            if (base == null || base.uuid() == null) {
                return deny(raw, rule, "no uuid known for disposable template " + target.substring(8), true);
            }
            wire = userLine + "\nresult=allow\ntarget=" + target + "\ntarget_uuid=@dispvm:uuid:" + base.uuid()
                    + "\nautostart=" + auto + "\nrequested_target=" + requested + policySource;
        } else {
            QubeInfo q = sys.find(target);
            if (q == null) return deny(raw, rule, "target " + target + " does not exist", true);
            if ("RemoteVM".equals(q.type())) {
                if (q.relayVm() == null || q.relayVm().isEmpty()) {
                    return deny(raw, rule, target + ": relayvm is not set", true);
                }
                if (q.transportRpc() == null || q.transportRpc().isEmpty()) {
                    return deny(raw, rule, target + ": transport RPC is not set", true);
                }
                QubeInfo relay = sys.find(q.relayVm());
                if (relay == null || relay.uuid() == null) {
                    return deny(raw, rule, target + ": relay qube " + q.relayVm() + " is unknown", true);
                }
                wire = "user=DEFAULT\nresult=allow\ntarget=" + q.relayVm() + "\ntarget_uuid=uuid:" + relay.uuid()
                        + "\nautostart=" + auto + "\nrequested_target=" + requested + "\nservice="
                        + q.transportRpc() + "+" + requested + "+" + call.service() + call.argument() + policySource;
            } else {
                if (q.uuid() == null) return deny(raw, rule, "no uuid known for target " + target, true);
                wire = userLine + "\nresult=allow\ntarget=" + target + "\ntarget_uuid=uuid:" + q.uuid()
                        + "\nautostart=" + auto + "\nrequested_target=" + requested + policySource;
            }
        }
        String log = Audit.prefix(call.service() + call.argument(), call.source(), requested) + " allowed to "
                + target;
        return new Resolution.Allow(rule.location(), target, user, notifyUser, autostart, wire, Audit.escape(log));
    }

    private static Resolution.Deny deny(Request raw, Rule rule, String reason, boolean notifyUser) {
        String log = Audit.prefix(raw.service() + raw.argument(), raw.source(), raw.target()) + " denied: " + reason;
        return new Resolution.Deny(rule == null ? null : rule.location(), reason, notifyUser, Audit.escape(log));
    }
}
