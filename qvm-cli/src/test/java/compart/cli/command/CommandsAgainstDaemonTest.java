package compart.cli.command;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Golden output of every command against a real compartd (the simulated {@code test} hypervisor) in this JVM, and
 * bad input for each: unknown qube, bad value, with Qubes' messages and exit codes. Each test starts from a
 * template {@code fedora}, a net qube {@code sys-net} and {@code work} (netvm sys-net), all created with qvm-create.
 */
class CommandsAgainstDaemonTest {
    @TempDir
    Path dir;

    private CliTestDaemon daemon;

    @BeforeEach
    void startDaemonWithThreeQubes() {
        daemon = new CliTestDaemon(dir);
        ok("qvm-create", "--class", "TemplateVM", "--label", "black", "fedora");
        ok("qvm-create", "-t", "fedora", "-l", "red", "--prop", "provides_network=True", "sys-net");
        ok("qvm-create", "-t", "fedora", "-l", "blue", "--property", "netvm=sys-net", "work");
    }

    @AfterEach
    void stopDaemon() {
        daemon.close();
    }

    private CliRun run(String command, String... args) {
        return daemon.run(command, args);
    }

    private String ok(String command, String... args) {
        CliRun r = run(command, args);
        assertThat(r.code()).as("%s %s: %s", command, String.join(" ", args), r.err()).isZero();
        return r.out();
    }

    /** Skips (with the reason) when compartd answers that it does not implement a method yet; else expects 0. */
    private static void assumeImplemented(CliRun r) {
        org.junit.jupiter.api.Assumptions.assumeFalse(r.err().contains("not available in Compart yet"),
                () -> "compartd does not implement this yet: " + r.err().strip());
        assertThat(r.code()).as(r.err()).isZero();
    }

    private static final String USAGE_THEN = "(?s)usage: .*\n";

    @Test
    void qvmLs_printsQubesSimpleColumns() {
        assertThat(ok("qvm-ls")).isEqualTo("""
                NAME     STATE    CLASS       LABEL  TEMPLATE  NETVM
                dom0     Running  AdminVM     black  -         -
                fedora   Halted   TemplateVM  black  -         -
                sys-net  Halted   AppVM       red    fedora    -
                work     Halted   AppVM       blue   fedora    sys-net
                """);
    }

    @Test
    void qvmLs_filtersFormatsAndTree() {
        ok("qvm-start", "work");
        assertThat(ok("qvm-ls", "--running", "--raw-list")).isEqualTo("dom0\nsys-net\nwork\n");
        assertThat(ok("qvm-ls", "--halted", "--raw-data", "-O", "name,class,netvm")).isEqualTo("fedora|TemplateVM|-\n");
        assertThat(ok("qvm-ls", "--class", "AppVM", "--format", "json")).isEqualTo(
                "[{\"name\":\"sys-net\",\"state\":\"Running\",\"class\":\"AppVM\",\"label\":\"red\",\"template\":"
                + "\"fedora\",\"netvm\":null},{\"name\":\"work\",\"state\":\"Running\",\"class\":\"AppVM\","
                + "\"label\":\"blue\",\"template\":\"fedora\",\"netvm\":\"sys-net\"}]\n");
        assertThat(ok("qvm-ls", "--tree", "-O", "name,state")).isEqualTo("""
                NAME     STATE
                dom0     Running
                fedora   Halted
                sys-net  Running
                └─work   Running
                """);
        assertThat(ok("qvm-ls", "-O", "name,flags", "sys-*", "work")).isEqualTo("""
                NAME     FLAGS
                sys-net  ar-N----
                work     ar------
                """);
        assertThat(ok("qvm-ls", "--sort", "LABEL", "--reverse", "-O", "name,label", "--class", "AppVM"))
                .isEqualTo("NAME     LABEL\nsys-net  red\nwork     blue\n");
    }

    @Test
    void qvmLs_unknownQube_isAUsageError() {
        CliRun r = run("qvm-ls", "nope");

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).matches(USAGE_THEN + "qvm-ls: error: no such domain: 'nope'\n");
    }

    @Test
    void lifecycle_startPauseUnpauseShutdownKill_changeTheState() {
        ok("qvm-start", "work");
        assertThat(ok("qvm-ls", "--raw-data", "-O", "name,state", "sys-net", "work"))
                .as("work's netvm starts with it").isEqualTo("sys-net|Running\nwork|Running\n");
        ok("qvm-pause", "work");
        assertThat(run("qvm-check", "--paused", "work").code()).isZero();
        ok("qvm-unpause", "work");
        assertThat(run("qvm-check", "--paused", "work").code()).isEqualTo(1);
        ok("qvm-shutdown", "--wait", "--timeout", "30", "work");
        assertThat(ok("qvm-ls", "--raw-data", "-O", "state", "work")).isEqualTo("Halted\n");
        ok("qvm-start", "work");
        ok("qvm-kill", "work");
        assertThat(ok("qvm-ls", "--raw-data", "-O", "state", "work")).isEqualTo("Halted\n");
        ok("qvm-kill", "work");
        ok("qvm-shutdown", "--all", "--wait");
        assertThat(ok("qvm-ls", "--running", "--raw-list")).isEqualTo("dom0\n");
    }

    @Test
    void qvmStart_runningQube_failsWithQubesLine_unlessSkipIfRunning() {
        ok("qvm-start", "work");

        CliRun r = run("qvm-start", "work");

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Error: Starting qube failed: work: Domain is already running\n");
        ok("qvm-start", "--skip-if-running", "work");
    }

    @Test
    void lifecycleCommands_unknownQube_isAUsageError() {
        for (String command : new String[] {"qvm-start", "qvm-shutdown", "qvm-kill", "qvm-pause", "qvm-unpause",
            "qvm-remove", "qvm-prefs", "qvm-tags", "qvm-features", "qvm-service"}) {
            CliRun r = run(command, "nope");
            assertThat(r.code()).as(command).isEqualTo(2);
            assertThat(r.err()).as(command).matches(USAGE_THEN + command + ": error: no such domain: 'nope'\n");
        }
        CliRun clone = run("qvm-clone", "nope", "copy");
        assertThat(clone.err()).endsWith("qvm-clone: error: no such domain: 'nope'\n");
    }

    @Test
    void qvmPause_haltedQube_failsWithTheDaemonsReason() {
        CliRun r = run("qvm-pause", "work");

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("Error: Failed to pause: work: ").doesNotContain("\tat ");
    }

    @Test
    void qvmCheck_exitCodeAnswers() {
        ok("qvm-start", "sys-net");
        CliRun some = run("qvm-check", "--running", "work", "sys-net");
        CliRun none = run("qvm-check", "--template", "work");
        CliRun missing = run("qvm-check", "work", "nope");

        assertThat(ok("qvm-check", "work")).isEmpty();
        assertThat(run("qvm-check", "work").err()).isEqualTo("qvm-check: work: exists\n");
        assertThat(run("qvm-check", "-q", "work").err()).isEmpty();
        assertThat(some.code()).isEqualTo(3);
        assertThat(some.err()).isEqualTo("qvm-check: sys-net: running\n");
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).isEqualTo("qvm-check: None of qubes: template\n");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("qvm-check: nope: non-existent!");
        assertThat(run("qvm-check", "--template", "fedora").code()).isZero();
    }

    @Test
    void qvmPrefs_listGetSetReset() {
        assertThat(ok("qvm-prefs", "work")).contains("label                 -  blue\n",
                "netvm                 -  sys-net\n", "memory                D  400\n",
                "default_dispvm        D  None\n");
        assertThat(ok("qvm-prefs", "work", "netvm")).isEqualTo("sys-net\n");
        ok("qvm-prefs", "work", "memory", "600");
        assertThat(ok("qvm-prefs", "work", "memory")).isEqualTo("600\n");
        assertThat(ok("qvm-prefs", "--hide-default", "work")).contains("memory                -  600\n")
                .doesNotContain("maxmem");
        ok("qvm-prefs", "--default", "work", "memory");
        assertThat(ok("qvm-prefs", "work", "memory")).isEqualTo("400\n");
        ok("qvm-prefs", "work", "netvm", "none");
        assertThat(ok("qvm-prefs", "work", "netvm")).isEmpty();
        assertThat(ok("qvm-prefs", "--format", "json", "work", "memory"))
                .isEqualTo("{\"default\":true,\"type\":\"int\",\"value\":400}\n");
        assertThat(ok("qvm-prefs", "--help-properties", "work")).contains("  memory  ");
    }

    @Test
    void qvmPrefs_badValue_failsWithTheDaemonsMessage_unknownProperty_isAUsageError() {
        CliRun bad = run("qvm-prefs", "work", "memory", "lots");
        CliRun unknown = run("qvm-prefs", "work", "no_such_property");
        CliRun badNetvm = run("qvm-prefs", "work", "netvm", "nope");

        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).isEqualTo("qvm-prefs: error: Failed to parse property value as int\n"); // Qubes' words
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).matches(USAGE_THEN + "qvm-prefs: error: no such property: 'no_such_property'\n");
        assertThat(badNetvm.code()).isEqualTo(1);
        assertThat(badNetvm.err()).startsWith("qvm-prefs: error: ").contains("nope");
    }

    @Test
    void qubesPrefs_setsAndGetsGlobalProperties() {
        ok("qvm-prefs", "sys-net", "netvm", "none");
        ok("qubes-prefs", "default_netvm", "sys-net");

        assertThat(ok("qubes-prefs", "default_netvm")).isEqualTo("sys-net\n");
        assertThat(ok("qubes-prefs")).contains("default_netvm             -  sys-net\n");
        CliRun unknown = run("qubes-prefs", "no_such_property");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).endsWith("qubes-prefs: error: no such property: 'no_such_property'\n");
    }

    @Test
    void qvmCreate_badLabelClassOrProperty_failsAsQubes() {
        CliRun label = run("qvm-create", "-t", "fedora", "-l", "pink", "new");
        CliRun klass = run("qvm-create", "-C", "NoSuchVM", "-l", "red", "new");
        CliRun noLabel = run("qvm-create", "new");
        CliRun exists = run("qvm-create", "-t", "fedora", "-l", "red", "work");
        CliRun badProp = run("qvm-create", "-t", "fedora", "-l", "red", "--prop", "memory=lots", "new");

        assertThat(label.code()).isEqualTo(2);
        assertThat(label.err()).contains("qvm-create: error: no such label: 'pink'; available: ")
                .contains("red").contains("black");
        assertThat(klass.code()).isEqualTo(2);
        assertThat(klass.err()).endsWith("qvm-create: error: no such domain class: 'NoSuchVM'\n");
        assertThat(noLabel.code()).isEqualTo(2);
        assertThat(noLabel.err()).endsWith("qvm-create: error: --label option is mandatory\n");
        assertThat(exists.code()).isEqualTo(1);
        assertThat(exists.err()).startsWith("qvm-create: error: Error creating VM: ").contains("work");
        assertThat(badProp.code()).as("created, but the property failed: Qubes' exit code 2").isEqualTo(2);
        assertThat(badProp.err()).startsWith("qvm-create: Error setting property memory (but VM created): ");
        assertThat(run("qvm-check", "new").code()).isZero();
    }

    @Test
    void qvmTags_addListQueryDelete() {
        ok("qvm-tags", "work", "add", "a", "b");
        assertThat(ok("qvm-tags", "work")).isEqualTo("a\naudiovm-dom0\nb\ncreated-by-dom0\nguivm-dom0\n");
        assertThat(ok("qvm-tags", "work", "list", "a")).isEqualTo("a\n");
        assertThat(run("qvm-tags", "work", "list", "zzz").code()).isEqualTo(1);
        ok("qvm-tags", "work", "del", "a");
        ok("qvm-tags", "work", "del", "never-set");
        assertThat(ok("qvm-tags", "work", "--format", "json")).isEqualTo("[\"audiovm-dom0\",\"b\",\"created-by-dom0\",\"guivm-dom0\"]\n");
        assertThat(ok("qvm-ls", "--tags", "b", "--raw-list")).isEqualTo("work\n");
        CliRun bad = run("qvm-tags", "work", "frobnicate");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("qvm-tags: error: argument command: invalid choice: 'frobnicate'");
    }

    @Test
    void qvmFeaturesAndServices() {
        ok("qvm-features", "work", "gui", "1");
        ok("qvm-features", "work", "video-model", "none");
        assertThat(ok("qvm-features", "work")).isEqualTo("gui          1\nvideo-model  none\n");
        assertThat(ok("qvm-features", "work", "gui")).isEqualTo("1\n");
        CliRun missing = run("qvm-features", "work", "nope");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.out() + missing.err()).isEmpty();
        ok("qvm-features", "--unset", "work", "gui");
        assertThat(run("qvm-features", "work", "gui").code()).isEqualTo(1);

        ok("qvm-service", "work", "crond", "on");
        ok("qvm-service", "--disable", "work", "cups");
        assertThat(ok("qvm-service", "work")).isEqualTo("crond  on\ncups   off\n");
        assertThat(ok("qvm-service", "work", "cups")).isEqualTo("off\n");
        assertThat(ok("qvm-features", "work", "service.crond")).isEqualTo("1\n");
        CliRun bad = run("qvm-service", "work", "crond", "maybe");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).isEqualTo("qvm-service: error: Invalid literal for boolean value: 'maybe'\n");
        assertThat(run("qvm-service", "work", "unset-service").code()).isEqualTo(1);
    }

    @Test
    void qvmRemove_inUse_explainsWhere_thenRemoves() {
        CliRun inUse = run("qvm-remove", "-f", "sys-net");

        assertThat(inUse.code()).isEqualTo(1);
        assertThat(inUse.err()).startsWith("VM sys-net cannot be removed. It is in use as:\n - netvm for work\n")
                .contains("qvm-remove: error: ");
        CliRun dom0 = run("qvm-remove", "-f", "dom0");
        assertThat(dom0.code()).isEqualTo(1);
        assertThat(dom0.err()).isEqualTo("Domain 'dom0' cannot be removed.\n");
        ok("qvm-remove", "-f", "work");
        assertThat(run("qvm-check", "work").code()).isEqualTo(1);
    }

    @Test
    void qvmClone_copiesSettingsTagsAndFeatures() {
        ok("qvm-prefs", "work", "memory", "800");
        ok("qvm-tags", "work", "add", "project-x");
        ok("qvm-features", "work", "gui", "1");

        assumeImplemented(run("qvm-clone", "work", "work-copy"));

        assertThat(ok("qvm-ls", "-O", "name,class,label,template,netvm", "work-copy"))
                .isEqualTo("NAME       CLASS  LABEL  TEMPLATE  NETVM\nwork-copy  AppVM  blue   fedora    sys-net\n");
        assertThat(ok("qvm-prefs", "work-copy", "memory")).isEqualTo("800\n");
        assertThat(ok("qvm-tags", "work-copy", "list", "project-x")).isEqualTo("project-x\n");
        assertThat(ok("qvm-features", "work-copy", "gui")).isEqualTo("1\n");
        CliRun exists = run("qvm-clone", "work", "sys-net");
        assertThat(exists.code()).isEqualTo(1);
        assertThat(exists.err()).startsWith("qvm-clone: error: ").contains("sys-net");
    }

    @Test
    void qvmVolume_infoResizeAndErrors() {
        String info = ok("qvm-volume", "info", "work:private");
        assertThat(info).startsWith("""
                pool               varlibqubes
                vid                appvms/work/private
                rw                 True
                source            \s
                save_on_stop       True
                snap_on_start      False
                size               2147483648
                """).endsWith("List of available revisions (for revert): none\n");
        assertThat(ok("qvm-volume", "info", "work:private", "size")).isEqualTo("2147483648\n");

        CliRun shrink = run("qvm-volume", "resize", "work:private", "1Gi");
        assertThat(shrink.code()).isEqualTo(1);
        assertThat(shrink.err()).startsWith("Error: Refusing to shrink volume work:private from 2147483648 to "
                + "1073741824 bytes.");
        assumeImplemented(run("qvm-volume", "resize", "work:private", "3GiB"));
        assertThat(ok("qvm-volume", "info", "work:private", "size")).isEqualTo("3221225472\n");

        assertThat(ok("qvm-volume", "list", "work")).isEqualTo("""
                POOL:VOLUME                       VMNAME  VOLUME_NAME  REVERT_POSSIBLE
                linux-kernel:                     work    kernel       No
                varlibqubes:appvms/work/private   work    private      No
                varlibqubes:appvms/work/root      work    root         No
                varlibqubes:appvms/work/volatile  work    volatile     No
                """);
        CliRun noVm = run("qvm-volume", "info", "nope:private");
        assertThat(noVm.code()).isEqualTo(1);
        assertThat(noVm.err()).isEqualTo("Error: no vm 'nope'\n");
        CliRun noVolume = run("qvm-volume", "info", "work:nope");
        assertThat(noVolume.err()).isEqualTo("Error: vm 'work' has no volume 'nope'\n");
        CliRun badSize = run("qvm-volume", "resize", "work:private", "huge");
        assertThat(badSize.err()).isEqualTo("Error: Invalid size: HUGE.\n");
    }

    @Test
    void qvmPool_listInfoAndErrors() {
        assertThat(ok("qvm-pool")).isEqualTo("NAME          DRIVER\nlinux-kernel  linux-kernel\n"
                + "varlibqubes   file-reflink\n");
        assertThat(ok("qvm-pool", "list", "--format", "json")).isEqualTo(
                "[{\"name\":\"linux-kernel\",\"driver\":\"linux-kernel\"},{\"name\":\"varlibqubes\","
                + "\"driver\":\"file-reflink\"}]\n");
        assertThat(ok("qvm-pool", "info", "varlibqubes")).startsWith("name               varlibqubes\n")
                .contains("driver             file-reflink\n");
        assertThat(ok("qvm-pool", "drivers")).startsWith("DRIVER        OPTIONS\n").contains("file-reflink  dir_path");
        CliRun unknown = run("qvm-pool", "info", "nope");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).endsWith("qvm-pool info: error: No such pools: nope\n");
    }
}
