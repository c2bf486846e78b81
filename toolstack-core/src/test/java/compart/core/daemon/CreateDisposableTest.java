package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import compart.core.api.AdminApi;
import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code admin.vm.CreateDisposable} on a compartd with the simulated hypervisor and a real file pool: a
 * disposable {@code dispN} of the destination (or, on dom0, of the caller's {@code default_dispvm}), with
 * {@code auto_cleanup}, its template's settings and Qubes' errors for everything else (the refusals of bad requests,
 * which create nothing, are rows of {@code admin-api-golden.tsv}).
 */
class CreateDisposableTest {
    static final String POLICY = """
            admin.vm.CreateDisposable  *  work  @adminvm  allow target=dom0
            admin.vm.CreateDisposable  *  work  dvm-tpl   allow target=dom0
            """;

    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(16384).policy(POLICY)
            .withDisposableTemplate();
    final Wire admin = compartd.admin();

    @BeforeEach
    void configureTheDisposableTemplate() throws Exception {
        admin.ok("admin.vm.property.Set", "memory", "dvm-tpl", "600");
        admin.ok("admin.vm.tag.Set", "browsing", "dvm-tpl", "");
        admin.ok("admin.vm.feature.Set", "service.cups", "dvm-tpl", "1");
        admin.ok("admin.vm.feature.Set", "preload-dispvm-delay", "dvm-tpl", "2");
    }

    List<String> disposables() throws Exception {
        return Arrays.stream(admin.ok("admin.vm.List", "", "dom0", "").split("\n"))
                .map(l -> l.split(" ")[0]).filter(n -> n.matches("disp[0-9]+")).toList();
    }

    @Test
    void onADisposableTemplate_createsDispN_withAutoCleanup_andTheTemplatesSettings() throws Exception {
        String name = admin.ok("admin.vm.CreateDisposable", "", "dvm-tpl", "");

        assertThat(name).matches("disp[1-9][0-9]{0,3}");
        assertThat(admin.property(name, "dispid")).isEqualTo(name.substring(4));
        assertThat(admin.property(name, "klass")).isEqualTo("DispVM");
        assertThat(admin.property(name, "template")).isEqualTo("dvm-tpl");
        assertThat(admin.property(name, "auto_cleanup")).isEqualTo("True");
        assertThat(admin.property(name, "include_in_backups")).isEqualTo("False");
        assertThat(admin.property(name, "label")).isEqualTo("red");
        assertThat(admin.property(name, "memory")).isEqualTo("600");
        assertThat(admin.property(name, "default_dispvm")).isEqualTo("dvm-tpl");
        assertThat(admin.ok("admin.vm.tag.List", "", name, "").split("\n"))
                .contains("browsing", "created-by-dom0", "disp-created-by-dom0");
        assertThat(admin.ok("admin.vm.feature.List", "", name, "").split("\n")).contains("service.cups")
                .doesNotContain("preload-dispvm-delay");
        assertThat(admin.ok("admin.vm.volume.Info", "private", name, "")).contains("snap_on_start=True")
                .contains("save_on_stop=False");
        assertThat(admin.ok("admin.vm.CurrentState", "", name, "")).contains("power_state=Halted");
    }

    @Test
    void eachCall_givesANewDisposable() throws Exception {
        String a = admin.ok("admin.vm.CreateDisposable", "", "dvm-tpl", "");
        String b = admin.ok("admin.vm.CreateDisposable", "", "dvm-tpl", "");

        assertThat(a).isNotEqualTo(b);
        assertThat(disposables()).containsExactlyInAnyOrder(a, b);
    }

    @Test
    void payloadUuid_answersTheDisposablesUuid() throws Exception {
        String answer = admin.ok("admin.vm.CreateDisposable", "", "dvm-tpl", "uuid");

        assertThat(answer).startsWith("uuid:");
        String name = disposables().getFirst();
        assertThat(admin.property(name, "uuid")).isEqualTo(answer.substring(5));
    }

    @Test
    void onDom0_usesTheCallersDefaultDispvm_dom0sIsTheGlobalOne() throws Exception {
        assertThat(admin.from("dom0", "admin.vm.CreateDisposable", "", "dom0", "")).startsWith("2|QubesException|")
                .contains("no default_dispvm");
        admin.ok("admin.property.Set", "default_dispvm", "dom0", "dvm-tpl");

        String fromDom0 = admin.ok("admin.vm.CreateDisposable", "", "dom0", "");
        String fromWork = admin.from("work", "admin.vm.CreateDisposable", "", "dom0", "");

        assertThat(admin.property(fromDom0, "template")).isEqualTo("dvm-tpl");
        assertThat(fromWork).startsWith("0|disp");
        String name = fromWork.substring(2);
        assertThat(admin.property(name, "template")).isEqualTo("dvm-tpl");
        assertThat(admin.ok("admin.vm.tag.List", "", name, "").split("\n"))
                .contains("created-by-work", "disp-created-by-work").doesNotContain("disp-created-by-dom0");
    }

    @Test
    void fromAQube_theQrexecPolicyDecides() throws Exception {
        admin.ok("admin.vm.Create.AppVM", "fedora", "dom0", "name=other label=green");
        admin.ok("admin.vm.property.Set", "default_dispvm", "other", "dvm-tpl");

        assertThat(admin.from("other", "admin.vm.CreateDisposable", "", "dom0", "")).startsWith("2|PermissionDenied|");
        assertThat(admin.from("work", "admin.vm.CreateDisposable", "", "dvm-tpl", "")).startsWith("0|disp");
        assertThat(disposables()).hasSize(1);
    }

    @Test
    void aDisposable_isRemovedWithItsVolumes_whenItStops() throws Exception {
        String name = admin.ok("admin.vm.CreateDisposable", "", "dvm-tpl", "");
        admin.ok("admin.vm.Start", "", name, "");
        assertThat(admin.ok("admin.vm.CurrentState", "", name, "")).contains("power_state=Running");

        admin.ok("admin.vm.Kill", "", name, "");

        // the removal is queued when its death is reported: wait for it, bounded
        for (int i = 0; i < 500 && (disposables().contains(name) || Files.exists(volumeDir(name))); i++) {
            Thread.sleep(10);
        }
        assertThat(disposables()).doesNotContain(name);
        assertThat(volumeDir(name)).doesNotExist();
    }

    Path volumeDir(String qube) {
        return compartd.stateDir().resolve("pool").resolve("appvms").resolve(qube);
    }

    @Test
    void dom0sDefaultDispvm_isInTheSystemInfoThePolicyGets() throws Exception {
        admin.ok("admin.property.Set", "default_dispvm", "dom0", "dvm-tpl");

        var system = new AdminApi(compartd.toolstack()).systemInfo();

        assertThat(system.find("dom0").defaultDispVm()).isEqualTo("dvm-tpl");
        assertThat(system.find("work").defaultDispVm()).isEqualTo("dvm-tpl");
        String json = compartd.internal().ok("internal.GetSystemInfo", "", "dom0", "");
        var domains = new ObjectMapper().readTree(json).get("domains");
        assertThat(domains.get("dom0").get("default_dispvm").asText()).isEqualTo("dvm-tpl");
    }

    @Test
    void dom0sDefaultDispvm_isNullInTheSystemInfo_whileNoneIsSet() throws Exception {
        String json = compartd.internal().ok("internal.GetSystemInfo", "", "dom0", "");
        var domains = new ObjectMapper().readTree(json).get("domains");

        assertThat(domains.get("dom0").get("default_dispvm").isNull()).isTrue();
        assertThat(new AdminApi(compartd.toolstack()).systemInfo().find("dom0").defaultDispVm())
                .isNull();
    }

    @Test
    void createDispVm_takesTheTemplatesSettingsToo_butNotAutoCleanup_andOnlyOfADisposableTemplate()
            throws Exception {
        admin.ok("admin.vm.property.Set", "netvm", "dvm-tpl", "");
        admin.ok("admin.vm.Create.DispVM", "dvm-tpl", "dom0", "name=mydisp label=orange");

        assertThat(admin.property("mydisp", "memory")).isEqualTo("600");
        assertThat(admin.property("mydisp", "netvm")).isEqualTo("");
        assertThat(admin.property("mydisp", "label")).isEqualTo("orange");
        assertThat(admin.property("mydisp", "auto_cleanup")).isEqualTo("False");
        assertThat(admin.ok("admin.vm.tag.List", "", "mydisp", "").split("\n")).contains("browsing")
                .contains("created-by-dom0").doesNotContain("disp-created-by-dom0");
        assertThat(admin.ok("admin.vm.feature.Get", "service.cups", "mydisp", "")).isEqualTo("1");

        assertThat(admin.from("dom0", "admin.vm.Create.DispVM", "work", "dom0", "name=bad label=red"))
                .startsWith("2|QubesValueError|").contains("template_for_dispvms is False");
        assertThat(admin.ok("admin.vm.List", "", "dom0", "")).doesNotContain("bad ");
    }
}
