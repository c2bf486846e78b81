package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * compartd's internal socket (Qubes' {@code qubesd.internal.sock}): {@code internal.GetSystemInfo} answers the state
 * of every qube in Qubes' JSON shape, only to dom0, with the Admin API's framing.
 */
class InternalSocketTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().internalSocket("run/internal.sock")
            .withDisposableTemplate();
    final Wire admin = compartd.admin();
    final Wire internal = compartd.internal();

    @BeforeEach
    void setPropertiesTagsAndFeatures() throws Exception {
        admin.ok("admin.vm.tag.Set", "trusted", "work", "");
        admin.ok("admin.vm.feature.Set", "internal", "fedora", "1");
    }

    JsonNode systemInfo() throws Exception {
        String reply = internal.from("dom0", "internal.GetSystemInfo", "", "dom0", "");
        assertThat(reply).startsWith("0|");
        return new ObjectMapper().readTree(reply.substring(2));
    }

    @Test
    void getSystemInfo_hasEveryQubeOfTheInventory_withQubesKeys() throws Exception {
        JsonNode domains = systemInfo().get("domains");
        Set<String> names = new TreeSet<>();
        domains.fieldNames().forEachRemaining(names::add);
        Set<String> listed = new TreeSet<>();
        for (String line : admin.ok("admin.vm.List", "", "dom0", "").split("\n")) {
            listed.add(line.split(" ", 2)[0]);
        }
        assertThat(names).isEqualTo(listed).contains("dom0", "fedora", "dvm-tpl", "work");
        for (String name : names) {
            List<String> keys = new ArrayList<>();
            domains.get(name).fieldNames().forEachRemaining(keys::add);
            assertThat(keys).as(name).containsExactly("internal", "tags", "type", "template_for_dispvms",
                    "default_dispvm", "icon", "label", "guivm", "relayvm", "transport_rpc", "power_state", "uuid");
        }
    }

    @Test
    void getSystemInfo_givesClassTagsDispvmSettingsLabelAndUuid_asTheAdminApiDoes() throws Exception {
        JsonNode d = systemInfo().get("domains");
        JsonNode work = d.get("work");
        assertThat(work.get("type").asText()).isEqualTo("AppVM");
        assertThat(work.get("tags").isArray()).isTrue();
        List<String> tags = new ArrayList<>();
        work.get("tags").forEach(t -> tags.add(t.asText()));
        assertThat(tags).contains("trusted");
        assertThat(work.get("default_dispvm").asText()).isEqualTo("dvm-tpl");
        assertThat(work.get("template_for_dispvms").asBoolean()).isFalse();
        assertThat(work.get("icon").asText()).isEqualTo("appvm-blue");
        String blue = admin.ok("admin.label.Get", "blue", "dom0", "");
        assertThat(work.get("label").asText()).isEqualTo(blue);
        assertThat(work.get("guivm").asText()).isEqualTo("dom0");
        assertThat(work.get("relayvm").isNull()).isTrue();
        assertThat(work.get("transport_rpc").isNull()).isTrue();
        assertThat(work.get("internal").isNull()).isTrue();
        String uuid = admin.ok("admin.vm.property.Get", "uuid", "work", "");
        assertThat(uuid).endsWith(" " + work.get("uuid").asText());

        assertThat(d.get("dvm-tpl").get("template_for_dispvms").isBoolean()).isTrue();
        assertThat(d.get("dvm-tpl").get("template_for_dispvms").asBoolean()).isTrue();
        assertThat(d.get("fedora").get("type").asText()).isEqualTo("TemplateVM");
        assertThat(d.get("fedora").get("internal").asText()).isEqualTo("1");
        assertThat(d.get("fedora").get("icon").asText()).isEqualTo("appvm-black");

        JsonNode dom0 = d.get("dom0");
        assertThat(dom0.get("type").asText()).isEqualTo("AdminVM");
        assertThat(dom0.get("uuid").asText()).isEqualTo("00000000-0000-0000-0000-000000000000");
        assertThat(dom0.get("power_state").asText()).isEqualTo("Running");
        assertThat(dom0.get("guivm").isNull()).isTrue();
        assertThat(dom0.get("template_for_dispvms").asBoolean()).isFalse();
    }

    @Test
    void getSystemInfo_followsThePowerStateAndTags_afterAStartOnTheTestHypervisor() throws Exception {
        assertThat(systemInfo().get("domains").get("work").get("power_state").asText()).isEqualTo("Halted");
        admin.ok("admin.vm.Start", "", "work", "");
        admin.ok("admin.vm.tag.Remove", "trusted", "work", "");
        JsonNode work = systemInfo().get("domains").get("work");
        assertThat(work.get("power_state").asText()).isEqualTo("Running");
        assertThat(work.get("tags").toString()).doesNotContain("trusted");
        admin.ok("admin.vm.Kill", "", "work", "");
        assertThat(systemInfo().get("domains").get("work").get("power_state").asText()).isEqualTo("Halted");
    }

    @Test
    void aQubeAsSource_isRefused_evenThoughTheSocketIsDom0Only() throws Exception {
        assertThat(internal.from("work", "internal.GetSystemInfo", "", "dom0", ""))
                .startsWith("2|PermissionDenied|");
        assertThat(systemInfo().get("domains").has("work")).isTrue(); // still serving
    }

    @Test
    void badCalls_getAProtocolError_andTheSocketKeepsServing() throws Exception {
        assertThat(internal.from("dom0", "internal.GetSystemInfo", "x", "dom0", "")).startsWith("2|ProtocolError|");
        assertThat(internal.from("dom0", "internal.GetSystemInfo", "", "dom0", "payload"))
                .startsWith("2|ProtocolError|");
        assertThat(internal.from("dom0", "internal.GetSystemInfo", "", "work", "")).startsWith("2|ProtocolError|");
        assertThat(internal.from("dom0", "internal.NoSuchMethod", "", "dom0", "")).startsWith("2|ProtocolError|");
        String big = "x".repeat(70_000);
        assertThat(internal.from("dom0", "internal.GetSystemInfo", "", "dom0", big)).startsWith("2|ProtocolError|");
        assertThat(systemInfo().get("domains").has("dom0")).isTrue();
    }

    @Test
    void theSocketsServeOnlyTheirOwnMethods() throws Exception {
        assertThat(internal.from("dom0", "admin.vm.List", "", "dom0", "")).startsWith("2|ProtocolError|");
        assertThat(admin.call("internal.GetSystemInfo", "", "dom0", "")).startsWith("2|");
    }

    @Test
    void theInternalSocket_isMode0660_likeQubesd() throws Exception {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(internal.socket())))
                .isEqualTo("rw-rw----");
    }

    @Test
    void withoutTheOption_theInternalSocketIsBesideTheAdminSocket() {
        var d = new Compartd();
        d.socket = Path.of("/var/run/qubesd.sock");
        assertThat(d.internalSocket()).isEqualTo(Path.of("/var/run/qubesd.internal.sock"));
    }
}
