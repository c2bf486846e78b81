package compart.packaging;

import static compart.packaging.DebPackageIT.ok;
import static compart.packaging.DebPackageIT.onPath;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The RPM that {@code -Pdist} builds ({@code src/build/dist.sh}, {@code src/dist/rpm/compart.spec}): the same tree
 * as the .deb (checked with {@code rpm -qpl}), configuration files kept on upgrade, scriptlets that keep user data,
 * and what rpmlint says of it with Fedora's conventions.
 */
class RpmPackageIT {

    private static Path rpm;
    private static List<String> files;

    @BeforeAll
    static void findPackage() throws Exception {
        assumeTrue(Boolean.getBoolean("compart.dist"), "the packages are built with -Pdist only");
        rpm = Processes.distPackage("compart-.*\\.x86_64\\.rpm", "compart-*.x86_64.rpm");
        files = ok("rpm", "-qpl", rpm.toString()).lines().toList();
    }

    @Test
    void header_namesThePackage_andItsDependencies() throws Exception {
        String info = ok("rpm", "-qp", "--queryformat", "%{NAME} %{VERSION} %{RELEASE} %{ARCH}\n", rpm.toString());
        assertThat(info).matches("compart \\d+\\.\\d+\\.\\d+(~snapshot)? 1 x86_64\n");
        List<String> requires = ok("rpm", "-qp", "--requires", rpm.toString()).lines().toList();
        assertThat(requires).contains("xen-libs", "glibc >= 2.17")
                .noneMatch(r -> r.startsWith("libjvm.so") || r.startsWith("libjava.so"));
        List<String> provides = ok("rpm", "-qp", "--provides", rpm.toString()).lines().toList();
        assertThat(provides).noneMatch(p -> p.contains(".so"));
    }

    @Test
    void hasTheSameFilesAsTheDeb() throws Exception {
        Path deb = Processes.distPackage(".*_amd64\\.deb", "*_amd64.deb");
        List<String> debFiles = ok("dpkg-deb", "--contents", deb.toString()).lines()
                .map(l -> l.substring(l.indexOf("./") + 1).replaceAll(" -> .*", ""))
                .filter(p -> !p.endsWith("/"))
                .filter(p -> !p.startsWith("/usr/share/lintian/"))
                .toList();
        assertThat(files).containsAll(debFiles);
    }

    @Test
    void everyCommand_isInUsrBin_withItsCache_manPage_andCompletion() throws IOException {
        for (Launcher l : Launcher.all(Processes.ROOT.resolve("bin"))) {
            assertThat(files).as(l.name()).contains("/usr/bin/" + l.name(), "/usr/lib/compart/bin/" + l.name(),
                    "/usr/lib/compart/lib/aot/" + l.name() + ".aot", "/usr/share/man/man1/" + l.name() + ".1.gz",
                    "/usr/share/bash-completion/completions/" + l.name());
        }
        assertThat(files).contains("/usr/lib/systemd/system/compartd.service",
                "/usr/lib/systemd/system/compart-policy.service", "/usr/lib/tmpfiles.d/compart.conf",
                "/usr/lib/sysusers.d/compart.conf", "/usr/lib/compart/bin/java")
                .noneMatch(f -> f.startsWith("/var/"));
    }

    @Test
    void configurationFiles_areKeptOnUpgrade() throws Exception {
        // %config(noreplace): a changed file stays, the new one is put beside it as .rpmnew
        String dump = ok("rpm", "-qp", "--queryformat", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]", rpm.toString());
        assertThat(dump).contains("/etc/compart/compart.conf cn", "/etc/qubes/policy.d/90-compart-default.policy cn");
        assertThat(ok("rpm", "-qpc", rpm.toString()).lines().toList()).containsExactlyInAnyOrder(
                "/etc/compart/compart.conf", "/etc/qubes/policy.d/90-compart-default.policy");
    }

    @Test
    void scriptlets_createTheGroup_keepUserData_andStopOnlyOnLastRemoval() throws Exception {
        String scripts = ok("rpm", "-qp", "--scripts", rpm.toString());
        assertThat(scripts).contains("preinstall scriptlet", "groupadd --system qubes",
                "systemd-tmpfiles --create compart.conf", "if [ \"$1\" -eq 0 ]", "systemctl disable --now",
                "try-restart").doesNotContain("rm -rf");
        for (String part : scripts.split("(?m)^\\w+ scriptlet \\(using /bin/sh\\):\n")) {
            if (!part.isBlank()) {
                ok("sh", "-n", "-c", part);
            }
        }
    }

    @Test
    void rpmlint_withFedorasConventions_findsNothing() throws Exception {
        assumeTrue(onPath("rpmlint"), "rpmlint is not installed (apt-get install rpmlint)");
        Path config = Processes.ROOT.resolve("packaging/src/dist/rpm/rpmlint.toml");
        var r = Processes.run(Map.of(), "rpmlint", "-c", config.toString(), rpm.toString());
        List<String> findings = r.output().lines().filter(l -> l.matches("compart[^:]*: [EW]: .*")).toList();
        assertThat(findings).as("rpmlint; all it said:%n%s", r.output()).isEmpty();
    }
}
