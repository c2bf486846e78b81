package compart.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Reading the qubes from JSON shaped like Qubes' internal.GetSystemInfo answer. */
class SystemInfoJsonTest {

    static SystemInfo read(String json) {
        return SystemInfoJson.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "test.json");
    }

    @Test
    void domainsObject_givesEveryQube_byNameAndByUuid_ignoringUnknownKeys() {
        SystemInfo s = read("""
                {"domains": {"work": {"type": "AppVM", "tags": ["a", "b"], "template_for_dispvms": false,
                  "default_dispvm": "dvm", "power_state": "Running", "uuid": "u-1", "icon": "appvm-red",
                  "guivm": "dom0", "internal": false},
                 "remote": {"type": "RemoteVM", "relayvm": "sys-net", "transport_rpc": "qubesair.SSHProxy"}}}
                """);
        QubeInfo work = s.find("work");
        assertThat(work.tags()).containsExactlyInAnyOrder("a", "b");
        assertThat(work.defaultDispVm()).isEqualTo("dvm");
        assertThat(work.running()).isTrue();
        assertThat(s.find("uuid:u-1")).isSameAs(work);
        assertThat(s.find("remote").relayVm()).isEqualTo("sys-net");
        assertThat(s.find("remote").transportRpc()).isEqualTo("qubesair.SSHProxy");
    }

    @Test
    void dom0_isAddedWhenAbsent_withTheZeroUuid() {
        SystemInfo s = read("{\"domains\": {}}");
        assertThat(s.find("dom0").type()).isEqualTo("AdminVM");
        assertThat(s.find("uuid:00000000-0000-0000-0000-000000000000").name()).isEqualTo("dom0");
    }

    @Test
    void vmsList_isAcceptedToo() {
        SystemInfo s = read("{\"vms\": [{\"name\": \"work\", \"type\": \"AppVM\", \"power_state\": \"Halted\"}]}");
        assertThat(s.find("work").running()).isFalse();
    }

    @Test
    void otherShapes_andBrokenJson_areInvalidValues_thatSayWhatToGive() {
        assertThatThrownBy(() -> read("{\"qubes\": []}")).isInstanceOf(CompartException.class)
                .hasMessageContaining("{\"domains\": {\"NAME\": {...}}}");
        assertThatThrownBy(() -> read("{\"domains\": ")).isInstanceOf(CompartException.class)
                .satisfies(e -> assertThat(((CompartException) e).kind()).isEqualTo(ErrorKind.INVALID_VALUE))
                .hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> read("{\"domains\": {\"a\": {}, \"a\": {}}}")).isInstanceOf(CompartException.class);
    }
}
