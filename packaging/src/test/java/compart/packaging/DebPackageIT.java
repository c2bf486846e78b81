package compart.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The .deb that {@code -Pdist} builds ({@code src/build/dist.sh}): its control data and maintainer scripts, every
 * file a Xen host needs (runtime image, launchers, units, configuration, man pages, completions), that the runtime
 * runs from where the package puts it with its AOT caches and no JDK, and what lintian says of it.
 */
class DebPackageIT {

    private static Path deb;
    private static String contents;

    @BeforeAll
    static void findPackage() throws Exception {
        assumeTrue(Boolean.getBoolean("compart.dist"), "the packages are built with -Pdist only");
        deb = Processes.distPackage("compart_.*_amd64\\.deb", "compart_*_amd64.deb");
        contents = ok("dpkg-deb", "--contents", deb.toString());
    }

    @Test
    void control_namesThePackage_itsXenLibraries_andItsConfigurationFiles() throws Exception {
        String control = ok("dpkg-deb", "--field", deb.toString());
        assertThat(control).contains("Package: compart\n", "Architecture: amd64\n", "Section: admin\n")
                .containsPattern("Version: \\d+\\.\\d+\\.\\d+(~snapshot)?\n")
                .containsPattern("Depends: .*libxenmisc4\\.17.*libxenstore4")
                .containsPattern("Installed-Size: \\d{5,}\n");
        Path control_dir = Files.createTempDirectory("compart-deb-control");
        ok("dpkg-deb", "--control", deb.toString(), control_dir.toString());
        assertThat(Files.readAllLines(control_dir.resolve("conffiles"))).containsExactlyInAnyOrder(
                "/etc/compart/compart.conf", "/etc/qubes/policy.d/90-compart-default.policy");
        for (String script : List.of("postinst", "prerm", "postrm")) {
            Path file = control_dir.resolve(script);
            assertThat(Files.isExecutable(file)).as(script).isTrue();
            ok("sh", "-n", file.toString());
        }
    }

    @Test
    void maintainerScripts_keepUserData_andObeyTheAdministrator() throws Exception {
        Path dir = Files.createTempDirectory("compart-deb-scripts");
        ok("dpkg-deb", "--control", deb.toString(), dir.toString());
        String postinst = Files.readString(dir.resolve("postinst"));
        String prerm = Files.readString(dir.resolve("prerm"));
        String postrm = Files.readString(dir.resolve("postrm"));
        String all = postinst + prerm + postrm;

        assertThat(all).doesNotContain("rm -rf", "rm -r ", "/var/lib/compart/*").doesNotContainPattern("rm .*policy");
        assertThat(postinst).contains("systemd-sysusers compart.conf", "groupadd --system qubes",
                "systemd-tmpfiles --create compart.conf", "deb-systemd-helper --quiet was-enabled",
                "deb-systemd-invoke");
        assertThat(prerm).contains("remove|deconfigure)", "deb-systemd-invoke stop");
        assertThat(postrm).contains("purge)", "kept the qubes' data in /var/lib/compart");
    }

    @Test
    void everyCommand_isInUsrBin_withItsLauncher_cache_manPage_andCompletion() throws IOException {
        for (Launcher l : Launcher.all(Processes.ROOT.resolve("bin"))) {
            assertThat(contents).as(l.name())
                    .containsPattern("\\./usr/bin/" + l.name() + " -> \\.\\./lib/compart/bin/" + l.name() + "\n")
                    .contains("./usr/lib/compart/bin/" + l.name() + "\n", "./usr/lib/compart/lib/aot/" + l.name()
                            + ".aot", "./usr/share/man/man1/" + l.name() + ".1.gz\n",
                            "./usr/share/bash-completion/completions/" + l.name() + "\n");
        }
        assertThat(contents).contains("./usr/share/man/man1/qvm-volume-list.1.gz\n",
                "./usr/lib/compart/bin/.launch\n", "./usr/lib/compart/bin/java\n", "./usr/lib/compart/lib/modules\n");
    }

    @Test
    void servicesAndSystemFiles_areInPlace() {
        assertThat(contents).contains("./usr/lib/systemd/system/compartd.service\n",
                "./usr/lib/systemd/system/compart-policy.service\n", "./usr/lib/tmpfiles.d/compart.conf\n",
                "./usr/lib/sysusers.d/compart.conf\n", "./etc/compart/compart.conf\n",
                "./etc/qubes/policy.d/90-compart-default.policy\n", "./usr/share/doc/compart/copyright\n");
        // the qubes' data is the user's: the package owns nothing below /var/lib
        assertThat(contents).doesNotContain("./var/");
        assertThat(contents.lines().filter(l -> l.contains(" root/root ")).count())
                .isEqualTo(contents.lines().count());
    }

    @Test
    void runtime_runsFromWhereThePackagePutsIt_withItsAotCache_andNoJdk() throws Exception {
        Path root = Files.createTempDirectory("compart-deb-root");
        ok("dpkg-deb", "--extract", deb.toString(), root.toString());

        // a JVM of the build host must not be needed: no JAVA_HOME, no java on the PATH
        var env = Map.of("JAVA_HOME", "/nonexistent", "PATH", "/usr/bin:/bin", "COMPART_JAVA", "/nonexistent",
                "COMPART_JAVA_OPTS", "-Xlog:class+load=info");
        var run = Processes.run(env, root.resolve("usr/bin/qvm-ls").toString(), "--help");
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).containsIgnoringCase("usage: qvm-ls")
                .contains("compart.cli.Main source: shared objects file");

        var lint = Processes.run(Map.of("PATH", "/usr/bin:/bin"), root.resolve("usr/bin/qubes-policy-lint").toString(),
                root.resolve("etc/qubes/policy.d").toString());
        assertThat(lint.exitCode()).as(lint.output()).isZero();
        assertThat(lint.output()).contains("no problem found");
    }

    @Test
    void manPages_renderWithoutWarnings() throws Exception {
        Path root = Files.createTempDirectory("compart-deb-man");
        ok("dpkg-deb", "--extract", deb.toString(), root.toString());
        try (Stream<Path> pages = Files.list(root.resolve("usr/share/man/man1"))) {
            for (Path page : pages.toList()) {
                var r = Processes.run(Map.of(), "sh", "-c", "zcat \"$0\" | groff -man -ww -z", page.toString());
                assertThat(r.exitCode()).isZero();
                assertThat(r.output()).as("groff warnings for %s", page.getFileName()).isEmpty();
            }
        }
        var man = Processes.run(Map.of("MANWIDTH", "80"), "man", "-l",
                root.resolve("usr/share/man/man1/qvm-shutdown.1.gz").toString());
        assertThat(man.output()).contains("qvm-shutdown", "--timeout", "Compart Manual");
    }

    @Test
    void systemdUnits_verify() throws Exception {
        assumeTrue(onPath("systemd-analyze"), "systemd-analyze is not installed");
        Path root = Files.createTempDirectory("compart-deb-units");
        ok("dpkg-deb", "--extract", deb.toString(), root.toString());
        // the targets the units refer to (sysinit.target ...) are the host's: verify against them too
        ok("sh", "-c", "for u in /lib/systemd/system/*.target; do cp -n \"$u\" \"$0/usr/lib/systemd/system/\"; done",
                root.toString());
        var r = Processes.run(Map.of("SYSTEMD_LOG_LEVEL", "warning"), "systemd-analyze", "verify",
                "--man=no", "--root=" + root, "/usr/lib/systemd/system/compartd.service",
                "/usr/lib/systemd/system/compart-policy.service");
        assertThat(r.output()).as("systemd-analyze verify").doesNotContainIgnoringCase("unknown")
                .doesNotContain("compartd.service:", "compart-policy.service:");
    }

    @Test
    void systemdUnits_areHardened() throws Exception {
        assumeTrue(onPath("systemd-analyze"), "systemd-analyze is not installed");
        Path root = Files.createTempDirectory("compart-deb-security");
        ok("dpkg-deb", "--extract", deb.toString(), root.toString());
        // systemd's exposure score, 0 (locked down) to 10: the policy daemon needs nothing of root; compartd drives Xen
        // as root (devices, back-ends, hotplug scripts), which keeps it higher
        assertThat(exposure(root, "compart-policy")).isLessThanOrEqualTo(3.0);
        assertThat(exposure(root, "compartd")).isLessThanOrEqualTo(8.0);
    }

    private static double exposure(Path root, String unit) throws Exception {
        var r = Processes.run(Map.of(), "systemd-analyze", "security", "--offline=yes", "--no-pager",
                "--root=" + root, root.resolve("usr/lib/systemd/system/" + unit + ".service").toString());
        var m = java.util.regex.Pattern.compile("Overall exposure level for " + unit + "\\.service: ([0-9.]+)")
                .matcher(r.output());
        assertThat(m.find()).as(r.output()).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void lintian_findsNoError() throws Exception {
        assumeTrue(onPath("lintian"), "lintian is not installed (apt-get install lintian)");
        var r = Processes.run(Map.of(), "lintian", "--tag-display-limit", "0", deb.toString());
        List<String> errors = r.output().lines().filter(l -> l.startsWith("E: ")).toList();
        assertThat(errors).as("lintian errors; all it said:%n%s", r.output()).isEmpty();
    }

    static boolean onPath(String tool) throws Exception {
        return Processes.run(Map.of(), "sh", "-c", "command -v \"$0\"", tool).exitCode() == 0;
    }

    static String ok(String... command) throws Exception {
        var r = Processes.run(Map.of(), command);
        assertThat(r.exitCode()).as("%s:%n%s", String.join(" ", command), r.output()).isZero();
        return r.output();
    }
}
