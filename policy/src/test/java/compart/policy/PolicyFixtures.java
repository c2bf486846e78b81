package compart.policy;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** A small Qubes system and helpers shared by the policy tests. */
final class PolicyFixtures {
    private PolicyFixtures() {
    }

    static final String WORK_UUID = "11111111-0000-0000-0000-000000000001";
    static final String VAULT_UUID = "11111111-0000-0000-0000-000000000003";

    static QubeInfo qube(String name, String type, String power, String uuid, String defaultDispVm, boolean dvmTemplate,
                     String... tags) {
        return new QubeInfo(name, type, Set.of(tags), dvmTemplate, defaultDispVm, power, uuid, false, "dom0", null, null);
    }

    /** dom0, work (running, tag work), personal (halted), vault (halted, no default_dispvm), two dvm templates. */
    static SystemInfo system() {
        return SystemInfo.of(List.of(
                qube("work", "AppVM", "Running", WORK_UUID, "fedora-dvm", false, "work"),
                qube("personal", "AppVM", "Halted", "11111111-0000-0000-0000-000000000002", "fedora-dvm", false),
                qube("vault", "AppVM", "Halted", VAULT_UUID, null, false, "secret"),
                qube("fedora-dvm", "AppVM", "Halted", "11111111-0000-0000-0000-000000000004", "fedora-dvm", true,
                        "dvm"),
                qube("debian-dvm", "AppVM", "Halted", "11111111-0000-0000-0000-000000000005", null, true, "work"),
                qube("fedora-41", "TemplateVM", "Halted", "11111111-0000-0000-0000-000000000006", null, false),
                new QubeInfo("sys-hidden", "AppVM", Set.of("work"), false, null, "Running",
                        "11111111-0000-0000-0000-000000000007", true, null, null, null),
                new QubeInfo("remote", "RemoteVM", Set.of(), false, null, "Running",
                        "11111111-0000-0000-0000-000000000008", false, null, "sys-net", "qubesair.SSHProxy"),
                qube("sys-net", "AppVM", "Running", "11111111-0000-0000-0000-000000000009", null, false)));
    }

    static Policy policy(String text) {
        return Policy.parse(text, "test.policy", Path.of("."));
    }

    static Resolution decide(String policyText, String source, String target, String serviceAndArg) {
        return policy(policyText).evaluate(Request.of(serviceAndArg, source, target), system());
    }
}
