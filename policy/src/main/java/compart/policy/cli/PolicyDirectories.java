package compart.policy.cli;

import compart.policy.parse.PolicyLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * Where the policy is read from: the {@code --policy-dir} and {@code --legacy-dir} options that
 * {@code qrexec-policy-eval} and {@code qrexec-policy-daemon} share (a picocli mixin), with Qubes' defaults.
 */
public final class PolicyDirectories {
    @Option(names = "--policy-dir", paramLabel = "DIR",
            description = "a policy directory; repeat for more, the first having a file name wins "
                    + "(default: /run/qubes/policy.d then /etc/qubes/policy.d)")
    List<Path> policyDirs = new ArrayList<>();

    @Option(names = "--legacy-dir", paramLabel = "DIR",
            description = "the R4.0 policy that !compat-4.0 reads (default: /etc/qubes-rpc/policy)")
    Path legacyDir;

    /** @return the directories given, or {@code /run/qubes/policy.d} then {@code /etc/qubes/policy.d} */
    public List<Path> dirs() {
        return policyDirs.isEmpty() ? List.of(PolicyLoader.RUN_POLICY_DIR, PolicyLoader.ETC_POLICY_DIR) : policyDirs;
    }

    /** @return the R4.0 directory for {@code !compat-4.0}, or null for the default */
    public Path legacyDir() {
        return legacyDir;
    }
}
