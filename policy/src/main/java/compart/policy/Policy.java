package compart.policy;

import compart.policy.eval.Audit;
import compart.policy.eval.Evaluator;
import compart.policy.parse.LoadedPolicy;
import compart.policy.parse.PolicyLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loaded qrexec policy, ready to decide calls the way Qubes would for the same files.
 *
 * <p>Fails closed: if loading found any problem ({@link #diagnostics()} not empty), every call is denied and
 * the deny reason names the first problem's {@code FILE:LINE}. Decisions cost a few index look-ups, not a scan
 * of every rule.
 *
 * <p>Immutable and thread safe. A reload builds a new {@code Policy}; decisions in flight keep the old one
 * (see {@link LivePolicy}).
 */
public final class Policy {
    /** The logger every decision is written to, one line each. */
    public static final String AUDIT_LOGGER = "compart.policy.audit";

    /** Created on first use, so that tools that only evaluate never start a logging back end. */
    private static final class AuditLog {
        static final Logger LOG = LoggerFactory.getLogger(AUDIT_LOGGER);
    }

    private final List<Diagnostic> diagnostics;
    private final Evaluator evaluator;
    private final List<Path> inputs;

    private Policy(LoadedPolicy loaded) {
        this.diagnostics = loaded.diagnostics();
        this.evaluator = new Evaluator(loaded.rules());
        this.inputs = loaded.inputs();
    }

    /**
     * Loads the policy of a Qubes system: {@code /run/qubes/policy.d} then {@code /etc/qubes/policy.d}, with
     * {@code /etc/qubes-rpc/policy} for {@code !compat-4.0}.
     */
    public static Policy loadSystem() {
        return load(List.of(PolicyLoader.RUN_POLICY_DIR, PolicyLoader.ETC_POLICY_DIR), null);
    }

    /**
     * Loads policy directories, merged by file name (the first directory that has a file name wins).
     *
     * @param dirs      the directories, in priority order
     * @param legacyDir the R4.0 directory for {@code !compat-4.0}, or null for {@code /etc/qubes-rpc/policy}
     * @return the policy; problems are in {@link #diagnostics()}, never thrown
     */
    public static Policy load(List<Path> dirs, Path legacyDir) {
        return new Policy(PolicyLoader.load(dirs, legacyDir));
    }

    /**
     * Parses policy text (tests, editors).
     *
     * @param text    v5 policy text
     * @param name    the file name to use in messages
     * @param baseDir where relative includes resolve
     */
    public static Policy parse(String text, String name, Path baseDir) {
        return new Policy(PolicyLoader.loadText(text, name, baseDir));
    }

    /** @return the problems found while loading; empty for a usable policy */
    public List<Diagnostic> diagnostics() {
        return diagnostics;
    }

    /** @return whether the policy loaded without problems */
    public boolean valid() {
        return diagnostics.isEmpty();
    }

    /** @return the number of rules loaded */
    public int ruleCount() {
        return evaluator.size();
    }

    /** @return the files and directories read, for a watcher */
    public List<Path> inputs() {
        return inputs;
    }

    /**
     * Decides a call as the policy daemon does without {@code assume_yes_for_ask}: an {@code ask} stays an
     * {@link Resolution.Ask}. Writes nothing to the audit log.
     */
    public Resolution evaluate(Request request, SystemInfo system) {
        return evaluate(request, system, false);
    }

    /**
     * Decides a call. Writes nothing to the audit log.
     *
     * @param assumeYesForAsk answer an ask as if the user chose the target the caller named
     */
    public Resolution evaluate(Request request, SystemInfo system, boolean assumeYesForAsk) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(system, "system");
        if (!diagnostics.isEmpty()) {
            Diagnostic first = diagnostics.getFirst();
            String reason = first.toString();
            String log = Audit.prefix(request.service() + request.argument(), request.source(),
                    request.target()) + " error loading policy: " + reason;
            return new Resolution.Deny(null, reason, true, Audit.escape(log));
        }
        return evaluator.evaluate(request, system, assumeYesForAsk);
    }

    /** Like {@link #evaluate(Request, SystemInfo, boolean)}, and writes the audit line to {@value #AUDIT_LOGGER}. */
    public Resolution decide(Request request, SystemInfo system, boolean assumeYesForAsk) {
        Resolution r = evaluate(request, system, assumeYesForAsk);
        audit(r.log());
        return r;
    }

    /**
     * Writes one audit line to {@value #AUDIT_LOGGER}: at error level for a policy that failed to load (as Qubes
     * does), info otherwise. The line must already be escaped (as {@link Resolution#log()} is).
     */
    public static void audit(String line) {
        if (line.contains(": error loading policy: ")) AuditLog.LOG.error(line);
        else AuditLog.LOG.info(line);
    }

    /** Reference check for tests: the first matching rule found by a plain scan and by the index. */
    int[] firstMatchScanAndIndex(Request request, SystemInfo system) {
        return new int[] {evaluator.firstMatchByScan(request, system), evaluator.firstMatchByIndex(request, system)};
    }
}
