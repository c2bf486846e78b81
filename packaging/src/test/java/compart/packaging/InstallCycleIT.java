package compart.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packages installed for real — in a throwaway copy of this machine's root file system (an overlay whose
 * changes vanish, in a private mount namespace: {@code install-cycle/throwaway-root.sh}) — then used (the installed
 * compartd with the test hypervisor, qvm-create and qvm-ls against it), changed the way an administrator does,
 * upgraded, removed and purged: the qubes' data, the user's policy and changed configuration survive each step.
 * The cycle scripts print one line per check, {@code ok: ...} or {@code FAILED: ...}.
 */
class InstallCycleIT {

    private static final Path SCRIPTS = Processes.ROOT.resolve("packaging/src/test/resources/install-cycle");

    @BeforeAll
    static void needsRootAndPackages() throws Exception {
        assumeTrue(Boolean.getBoolean("compart.dist"), "the packages are built with -Pdist only");
        var id = Processes.run(Map.of(), "id", "-u");
        assumeTrue(id.output().strip().equals("0"), "installing in a throwaway root needs root (CI runs as root)");
        assumeTrue(DebPackageIT.onPath("unshare"), "unshare (util-linux) is not installed");
    }

    @Test
    void deb_installUpgradeRemovePurge_keepsDataAndPolicy() throws Exception {
        List<String> lines = cycle("compart_.*_amd64\\.deb", "deb-cycle.sh");
        assertThat(lines).contains("ok: dpkg -i", "ok: compartd (installed) serves /run/qubesd.sock",
                "ok: the changed compart.conf is kept", "ok: a service the administrator disabled stays disabled",
                "ok: dpkg -P", "ok: purge removes compart.conf");
        assertThat(lines.stream().filter(l -> l.equals("ok: the qubes' data is kept"))).hasSize(3);
    }

    @Test
    void rpm_installReinstallErase_keepsDataAndPolicy() throws Exception {
        assumeTrue(DebPackageIT.onPath("rpm"), "rpm is not installed");
        List<String> lines = cycle("compart-.*\\.x86_64\\.rpm", "rpm-cycle.sh");
        assertThat(lines).contains("ok: rpm -i", "ok: qvm-ls lists the new qube", "ok: rpm -e",
                "ok: the changed compart.conf is saved as .rpmsave");
        assertThat(lines.stream().filter(l -> l.equals("ok: the qubes' data is kept"))).hasSize(2);
    }

    /** Runs one cycle script with the package in a throwaway root; fails on any FAILED check or an unfinished run. */
    private static List<String> cycle(String packagePattern, String script) throws Exception {
        Path dir = Files.createTempDirectory("compart-install-cycle");
        try (Stream<Path> files = Files.list(SCRIPTS)) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        Path pkg = Processes.distPackage(packagePattern, packagePattern);
        Files.copy(pkg, dir.resolve(pkg.getFileName()));

        var r = Processes.run(Map.of(), "unshare", "--mount", "--propagation", "private", "bash",
                dir.resolve("throwaway-root.sh").toString(), dir.toString(), script);
        List<String> checks = r.output().lines().filter(l -> l.startsWith("ok: ") || l.startsWith("FAILED: ")
                || l.startsWith("== ")).toList();
        assertThat(checks).as("the checks of %s; all it said:%n%s", script, r.output())
                .noneMatch(l -> l.startsWith("FAILED: ")).contains("== done");
        assertThat(r.exitCode()).as(r.output()).isZero();
        return checks;
    }
}
