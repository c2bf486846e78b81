package compart.cli.client;

import static compart.cli.client.RecordingPeer.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The typed calls parse the Admin API's payload formats (golden answers from a recording peer). */
class AdminClientTest {
    @TempDir
    Path dir;

    @Test
    void qubes_parsesListLines_withAndWithoutUuid() throws Exception {
        try (var peer = new RecordingPeer(dir, List.of(bytes("0\0dom0 class=AdminVM state=Running\n"
                + "work class=AppVM state=Halted uuid=6b6a4c1e-7f0e-4c5e-9d7b-2a3f1f0d9e11\n")))) {
            var qubes = new AdminClient(new AdminSocket(peer.path)).qubes();

            assertThat(qubes).containsExactly(new QubeEntry("dom0", "AdminVM", "Running", ""),
                    new QubeEntry("work", "AppVM", "Halted", "6b6a4c1e-7f0e-4c5e-9d7b-2a3f1f0d9e11"));
            assertThat(qubes.get(0).isRunning()).isTrue();
            assertThat(qubes.get(1).isRunning()).isFalse();
        }
    }

    @Test
    void properties_parsesGetAll_unescapingNewlinesAndBackslashes() throws Exception {
        try (var peer = new RecordingPeer(dir, List.of(bytes("0\0label default=False type=label red\n"
                + "netvm default=True type=vm \n" + "kernelopts default=False type=str a\\\\b\\nc\n"
                + "memory default=True type=int 400\n" + "debug default=True type=bool \n")))) {
            Map<String, Property> props = new AdminClient(new AdminSocket(peer.path)).properties("work");

            assertThat(new String(peer.requests.getFirst(), StandardCharsets.US_ASCII))
                    .isEqualTo("admin.vm.property.GetAll+ dom0 name work\0");
            assertThat(props).containsEntry("label", new Property(false, "label", "red"))
                    .containsEntry("kernelopts", new Property(false, "str", "a\\b\nc"))
                    .containsEntry("memory", new Property(true, "int", "400"));
            assertThat(props.get("netvm").isNone()).isTrue();
            assertThat(props.get("debug").isUnset()).isTrue();
        }
    }

    @Test
    void globalProperties_goToDom0WithTheGlobalPrefix() throws Exception {
        try (var peer = new RecordingPeer(dir, List.of(bytes("0\0default=True type=vm sys-net")))) {
            Reply r = new AdminClient(new AdminSocket(peer.path)).property(null, "default_netvm");

            assertThat(Property.parse(r.text())).isEqualTo(new Property(true, "vm", "sys-net"));
            assertThat(new String(peer.requests.getFirst(), StandardCharsets.US_ASCII))
                    .isEqualTo("admin.property.Get+default_netvm dom0 name dom0\0");
        }
    }

    @Test
    void feature_notSet_isEmpty_notAnError() throws Exception {
        try (var peer = new RecordingPeer(dir, List.of(
                bytes("2\0QubesFeatureNotFoundError\0\0Feature not set for domain work: gui\0"), bytes("0\0" + "1")))) {
            var client = new AdminClient(new AdminSocket(peer.path));

            assertThat(client.feature("work", "gui")).isEmpty();
            assertThat(client.feature("work", "gui")).contains("1");
        }
    }

    @Test
    void create_sendsQubesPayload_andUsesCreateInPoolWhenPoolsAreGiven() throws Exception {
        try (var peer = new RecordingPeer(dir, List.of(bytes("0\0"), bytes("0\0")))) {
            var client = new AdminClient(new AdminSocket(peer.path));
            client.create("AppVM", "fedora-41", "work", "blue", null, Map.of());
            client.create("StandaloneVM", null, "sa", "red", null, Map.of("root", "p2", "private", "p1"));

            assertThat(new String(peer.requests.get(0), StandardCharsets.US_ASCII))
                    .isEqualTo("admin.vm.Create.AppVM+fedora-41 dom0 name dom0\0name=work label=blue");
            assertThat(new String(peer.requests.get(1), StandardCharsets.US_ASCII)).isEqualTo(
                    "admin.vm.CreateInPool.StandaloneVM+ dom0 name dom0\0name=sa label=red pool:private=p1 pool:root=p2");
        }
    }

    @Test
    void shutdown_passesForceAndWaitAsQubesArguments() throws Exception {
        try (var peer = new RecordingPeer(dir, List.of(bytes("0\0"), bytes("0\0")))) {
            var client = new AdminClient(new AdminSocket(peer.path));
            client.shutdown("work", true, true).orThrow();
            client.shutdown("work", false, false).orThrow();

            assertThat(new String(peer.requests.get(0), StandardCharsets.US_ASCII))
                    .isEqualTo("admin.vm.Shutdown+force+wait dom0 name work\0");
            assertThat(new String(peer.requests.get(1), StandardCharsets.US_ASCII))
                    .isEqualTo("admin.vm.Shutdown+ dom0 name work\0");
        }
    }
}
