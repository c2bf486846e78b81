package compart.cli.command;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * qvm-run against a real compartd on the simulated {@code test} hypervisor: its domains have no qrexec agent, so
 * every run is refused with a line saying so (the Xen host's QvmRunIT runs commands for real); usage errors are
 * found before the daemon is asked. {@code --dispvm} really creates the disposable, and removes it again.
 */
class QvmRunTest {
    @TempDir
    Path dir;
    CliTestDaemon daemon;

    @BeforeEach
    void start() {
        daemon = new CliTestDaemon(dir);
        assertThat(daemon.run("qvm-create", "-C", "TemplateVM", "-l", "black", "tpl").code()).isZero();
        assertThat(daemon.run("qvm-create", "-t", "tpl", "-l", "blue", "work").code()).isZero();
        assertThat(daemon.run("qvm-create", "-t", "tpl", "-l", "red", "personal").code()).isZero();
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    @Test
    void help_isQubesOptionsAndSynopsis_golden() throws Exception {
        CliRun r = daemon.run("qvm-run", "--help");

        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo(Files.readString(Path.of(getClass().getResource("/golden/qvm-run-help.txt")
                .toURI())));
    }

    @Test
    void passIo_onTheTestHypervisor_isRefused_exit255_sayingThereIsNoQrexec_andTheQubeStaysHalted() {
        CliRun r = daemon.run("qvm-run", "--pass-io", "work", "echo hi; exit 3");

        assertThat(r.code()).isEqualTo(255);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).isEqualTo("qvm-run: error: work: qvm-run: compartd runs on the test hypervisor, whose "
                + "simulated domains have no qrexec agent: nothing can run in qube work (run compartd --hypervisor "
                + "libxl on a Xen host)\n");
        assertThat(daemon.run("qvm-check", "--running", "work").code()).isNotZero();
    }

    @Test
    void withoutPassIo_saysWhatRunsWhere_thenTheRefusal() {
        CliRun r = daemon.run("qvm-run", "-u", "root", "work", "true");

        assertThat(r.code()).isEqualTo(255);
        assertThat(r.err()).startsWith("Running 'true' on work\nqvm-run: error: work: ").contains("no qrexec agent");
    }

    @Test
    void all_runsOnlyOnRunningQubes_andRefusesPassIoForSeveral() {
        assertThat(daemon.run("qvm-start", "work", "personal").code()).isZero();

        CliRun several = daemon.run("qvm-run", "--all", "-p", "id");
        CliRun excluded = daemon.run("qvm-run", "--all", "--exclude", "personal", "id");

        assertThat(several.code()).isEqualTo(2);
        assertThat(several.err()).endsWith("qvm-run: error: --passio cannot be used when more than 1 qube is "
                + "chosen\n");
        assertThat(excluded.code()).isEqualTo(255);
        assertThat(excluded.err()).startsWith("Running 'id' on work\n").doesNotContain("personal")
                .doesNotContain("tpl");
    }

    @Test
    void badCommandLines_areUsageErrors_exit2() {
        assertThat(daemon.run("qvm-run", "work").err()).endsWith("qvm-run: error: the following arguments are "
                + "required: COMMAND\n");
        assertThat(daemon.run("qvm-run", "nosuch", "id").err()).endsWith("qvm-run: error: no such domain: "
                + "'nosuch'\n");
        assertThat(daemon.run("qvm-run", "--exclude", "x", "work", "id").err())
                .endsWith("qvm-run: error: --exclude can only be used with --all\n");
        assertThat(daemon.run("qvm-run", "--service", "--no-shell", "work", "qubes.X").err())
                .endsWith("qvm-run: error: --no-shell does not apply to --service\n");
        assertThat(daemon.run("qvm-run", "--bogus", "work", "id").err())
                .endsWith("qvm-run: error: Unknown option: '--bogus'\n");
        for (var args : new String[][] {{"work"}, {"nosuch", "id"}, {"--bogus", "work", "id"}}) {
            assertThat(daemon.run("qvm-run", args).code()).as(String.join(" ", args)).isEqualTo(2);
        }
    }

    @Test
    void optionsAfterTheCommand_belongToTheRemoteCommand() {
        CliRun r = daemon.run("qvm-run", "work", "ls", "--bogus", "it's");

        assertThat(r.code()).isEqualTo(255); // parsed: refused only by the test hypervisor
        assertThat(QvmRun.quote("it's")).isEqualTo("'it'\"'\"'s'");
        assertThat(QvmRun.quote("--bogus")).isEqualTo("--bogus");
    }

    List<String> disposables() {
        return daemon.run("qvm-ls", "--raw-list").out().lines().filter(n -> n.matches("disp[0-9]+")).toList();
    }

    void makeDisposableTemplate() {
        assertThat(daemon.run("qvm-create", "-t", "tpl", "-l", "red", "dvm").code()).isZero();
        assertThat(daemon.run("qvm-prefs", "dvm", "template_for_dispvms", "True").code()).isZero();
    }

    @Test
    void dispvm_createsADisposableOfTheTemplate_runsThere_andRemovesIt_refusedOnTheTestHypervisor() {
        makeDisposableTemplate();

        CliRun r = daemon.run("qvm-run", "--dispvm=dvm", "--pass-io", "echo", "hi");

        assertThat(r.code()).isEqualTo(255);
        assertThat(r.err()).matches("qvm-run: error: disp[0-9]+: qvm-run: compartd runs on the test hypervisor, "
                + "whose simulated domains have no qrexec agent: nothing can run in qube disp[0-9]+ .*\\n");
        assertThat(disposables()).isEmpty();
        assertThat(daemon.run("qvm-ls", "--raw-list").out().lines().toList()).contains("dvm", "work");
    }

    @Test
    void dispvmWithoutTemplate_usesTheDefaultDispvm_andSaysWhereItRuns() {
        makeDisposableTemplate();
        assertThat(daemon.run("qubes-prefs", "default_dispvm", "dvm").code()).isZero();

        CliRun r = daemon.run("qvm-run", "--dispvm", "--user", "root", "id");

        assertThat(r.code()).isEqualTo(255);
        assertThat(r.err()).startsWith("Running 'id' on disp").contains("no qrexec agent");
        assertThat(disposables()).isEmpty();
    }

    @Test
    void dispvm_ofAQubeThatIsNoDisposableTemplate_orWithoutDefault_isAnError_andCreatesNothing() {
        CliRun notTemplate = daemon.run("qvm-run", "--dispvm=work", "id");
        CliRun noDefault = daemon.run("qvm-run", "--dispvm", "--", "id");
        CliRun unknown = daemon.run("qvm-run", "--dispvm=nosuch", "id");

        assertThat(notTemplate.code()).isEqualTo(255);
        assertThat(notTemplate.err()).startsWith("qvm-run: error: work: Refusing to create disposable out of AppVM "
                + "work, because template_for_dispvms=False");
        assertThat(noDefault.code()).isEqualTo(255);
        assertThat(noDefault.err()).contains("no default_dispvm");
        assertThat(unknown.code()).isEqualTo(255);
        assertThat(unknown.err()).contains("nosuch");
        assertThat(disposables()).isEmpty();
    }

    @Test
    void dispvm_withAllOrExclude_isAUsageError() {
        makeDisposableTemplate();

        CliRun withAll = daemon.run("qvm-run", "--dispvm=dvm", "--all", "id");
        CliRun withExclude = daemon.run("qvm-run", "--dispvm=dvm", "--exclude", "work", "id");

        assertThat(withAll.code()).isEqualTo(2);
        assertThat(withAll.err()).endsWith("qvm-run: error: argument --all: not allowed with argument --dispvm\n");
        assertThat(withExclude.code()).isEqualTo(2);
        assertThat(withExclude.err()).endsWith("qvm-run: error: Cannot use --exclude with --dispvm\n");
        assertThat(disposables()).isEmpty();
    }

    @Test
    void badServiceName_isRefusedByTheDaemon() {
        CliRun r = daemon.run("qvm-run", "--service", "work", "qubes.X Y");

        assertThat(r.code()).isEqualTo(255);
        assertThat(r.err()).contains("invalid service name");
    }
}
