package compart.policy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Load and decide on a large policy: parsing 10, 1 000 and 10 000 rules, and one decision that matches the
 * first rule, the last rule, no rule (default deny), and an {@code ask} whose choice list is built from every
 * matching rule, on a system of 50 qubes.
 *
 * <p>The policy looks like a big real one: rules for 500 services, each with literal qube names, tags,
 * {@code @anyvm} and {@code @dispvm} targets, arguments, and a mix of allow, ask and deny. Run with
 * {@code ./mvnw -q -Pbench -pl policy test-compile exec:exec} (add {@code -Dbench.args="PolicyEvalBenchmark
 * -p rules=10000"} to choose). Results are operations per second; the targets are parse 10 000 rules
 * under 35 ms, 1 000 000 non-ask decisions/s and 20 000 asks/s at 10 000 rules.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PolicyEvalBenchmark {

    @Param({"10", "1000", "10000"})
    int rules;

    String text;
    Policy policy;
    SystemInfo system;
    Request first;
    Request last;
    Request noMatch;
    Request ask;

    /** A policy of about {@code n} rules (the last one always the distinctive last-match rule). */
    static String policyText(int n) {
        StringBuilder b = new StringBuilder("# generated benchmark policy\n");
        String[] actions = {"allow", "deny", "ask", "allow target=q7", "ask default_target=q3", "deny notify=no"};
        b.append("qubes.First * q0 q1 allow\n");
        for (int i = 1; i < n - 2; i++) {
            String svc = "qubes.Svc" + (i % 500);
            String arg = i % 3 == 0 ? "*" : "+a" + (i % 7);
            String src = switch (i % 4) {
                case 0 -> "q" + (i % 50);
                case 1 -> "@tag:t" + (i % 5);
                case 2 -> "@anyvm";
                default -> "q" + ((i * 7) % 50);
            };
            String tgt = switch (i % 5) {
                case 0 -> "q" + ((i + 1) % 50);
                case 1 -> "@dispvm";
                case 2 -> "@anyvm";
                case 3 -> "@tag:t" + (i % 5);
                default -> "q" + ((i * 3) % 50);
            };
            b.append(svc).append(' ').append(arg).append(' ').append(src).append(' ').append(tgt).append(' ')
                    .append(actions[i % actions.length]).append('\n');
        }
        b.append("qubes.Ask * @anyvm @anyvm ask\n");
        b.append("qubes.Last * q49 q48 allow\n");
        return b.toString();
    }

    static SystemInfo system50() {
        List<QubeInfo> qubes = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            qubes.add(new QubeInfo("q" + i, i % 10 == 0 ? "TemplateVM" : "AppVM", Set.of("t" + (i % 5)), i % 17 == 0,
                    "q17", i % 2 == 0 ? "Running" : "Halted", String.format("00000000-0000-0000-0000-%012d", i + 1),
                    false, "dom0", null, null));
        }
        return SystemInfo.of(qubes);
    }

    @Setup
    public void setUp() {
        text = policyText(rules);
        policy = Policy.parse(text, "bench.policy", Path.of("."));
        if (!policy.valid()) throw new IllegalStateException(policy.diagnostics().toString());
        system = system50();
        first = Request.of("qubes.First", "q0", "q1");
        last = Request.of("qubes.Last", "q49", "q48");
        noMatch = Request.of("qubes.Unknown+x", "q5", "q6");
        ask = Request.of("qubes.Ask", "q2", "q9");
        check(policy.evaluate(first, system), Resolution.Allow.class);
        check(policy.evaluate(last, system), Resolution.Allow.class);
        check(policy.evaluate(noMatch, system), Resolution.Deny.class);
        check(policy.evaluate(ask, system), Resolution.Ask.class);
    }

    private static void check(Resolution r, Class<?> expected) {
        if (!expected.isInstance(r)) throw new IllegalStateException("benchmark set-up: " + r);
    }

    @Benchmark
    public Policy parse() {
        return Policy.parse(text, "bench.policy", Path.of("."));
    }

    @Benchmark
    public Resolution decideFirstMatch() {
        return policy.evaluate(first, system);
    }

    @Benchmark
    public Resolution decideLastMatch() {
        return policy.evaluate(last, system);
    }

    @Benchmark
    public Resolution decideDefaultDeny() {
        return policy.evaluate(noMatch, system);
    }

    @Benchmark
    public Resolution decideAsk() {
        return policy.evaluate(ask, system);
    }
}
