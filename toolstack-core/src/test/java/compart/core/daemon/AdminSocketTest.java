package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Speaks the raw Admin API wire protocol to a running compartd (test hypervisor) on a temporary socket. */
class AdminSocketTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(8192);
    final Wire admin = compartd.admin();

    /** @return the reply to bytes sent as they are, NULs kept */
    String replyTo(byte[] request) throws Exception {
        return new String(admin.send(request), StandardCharsets.UTF_8);
    }

    void setUpQubes() throws Exception {
        admin.ok("admin.vm.Create.TemplateVM", "", "dom0", "name=fedora label=black");
        admin.ok("admin.property.Set", "default_template", "dom0", "fedora");
        admin.ok("admin.vm.Create.AppVM", "", "dom0", "name=sys-net label=red");
        admin.ok("admin.vm.property.Set", "provides_network", "sys-net", "True");
        admin.ok("admin.vm.Create.AppVM", "fedora", "dom0", "name=work label=blue");
        admin.ok("admin.vm.property.Set", "netvm", "work", "sys-net");
    }

    @Test
    void vmList_freshDaemon_listsDom0() throws Exception {
        assertThat(admin.call("admin.vm.List", "", "dom0", ""))
                .isEqualTo("0|dom0 class=AdminVM state=Running uuid=00000000-0000-0000-0000-000000000000\n");
        assertThat(Files.getPosixFilePermissions(compartd.socket())).extracting(Object::toString)
                .containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE", "GROUP_READ", "GROUP_WRITE");
    }

    // the replies of the common methods (labels, classes, pools, properties, tags, volumes, state, firewall) are
    // rows of compart/core/api/admin-api-golden.tsv (AdminApiGoldenTest), on the qubes setUpQubes makes

    @Test
    void lifecycle_startShutdownPauseKill_onTheTestHypervisor() throws Exception {
        setUpQubes();
        assertThat(admin.call("admin.vm.Start", "", "work", "")).isEqualTo("0|");
        // the netvm was started first
        assertThat(admin.ok("admin.vm.List", "", "dom0", "")).contains("sys-net class=AppVM state=Running")
                .contains("work class=AppVM state=Running").contains("fedora class=TemplateVM state=Halted");
        assertThat(admin.ok("admin.vm.CurrentState", "", "work", ""))
                .contains("mem=409600").endsWith("power_state=Running");
        var spec = compartd.hypervisor().specOf("work").orElseThrow();
        assertThat(spec.nics()).singleElement().satisfies(n -> {
            assertThat(n.backend()).isEqualTo("sys-net");
            assertThat(n.ip()).isEqualTo("10.137.0.3");
        });
        assertThat(spec.disks()).extracting(d -> d.vdev()).containsExactly("xvda", "xvdb", "xvdc");
        assertThat(admin.call("admin.vm.Pause", "", "work", "")).isEqualTo("0|");
        assertThat(admin.call("admin.vm.Pause", "", "work", "")).startsWith("2|QubesVMNotRunningError||");
        assertThat(admin.call("admin.vm.Unpause", "", "work", "")).isEqualTo("0|");
        assertThat(admin.call("admin.vm.Unpause", "", "work", "")).startsWith("2|QubesVMNotPausedError||");
        assertThat(admin.call("admin.vm.property.Set", "template", "work", "fedora"))
                .startsWith("2|QubesVMNotHaltedError||");
        assertThat(admin.call("admin.vm.Remove", "", "work", "")).startsWith("2|QubesVMNotHaltedError||");
        assertThat(admin.call("admin.vm.Shutdown", "", "sys-net", ""))
                .startsWith("2|QubesVMError||There are other VMs");
        assertThat(admin.call("admin.vm.Shutdown", "wait", "work", "")).isEqualTo("0|");
        assertThat(admin.ok("admin.vm.List", "", "work", "")).contains("state=Halted");
        assertThat(admin.call("admin.vm.Shutdown", "", "work", "")).startsWith("2|QubesVMNotStartedError||");
        assertThat(admin.call("admin.vm.Kill", "", "sys-net", "")).isEqualTo("0|");
        assertThat(admin.call("admin.vm.Remove", "", "work", "")).isEqualTo("0|");
        assertThat(admin.ok("admin.vm.List", "", "dom0", "")).doesNotContain("work ");
    }

    @Test
    void badFraming_getsTheRightException_nothingIsStored_andTheDaemonKeepsServing() throws Exception {
        setUpQubes();
        var before = Files.readString(compartd.stateDir().resolve("qubes/work.json"));
        // framing errors, a foreign source, an oversized request: still an exception reply (bad values and arguments
        // of well-framed calls are rows of admin-api-golden.tsv)
        assertThat(replyTo("garbage".getBytes())).startsWith("2\0ProtocolError\0");
        assertThat(replyTo("admin.vm.List+ dom0 uuid x\0".getBytes())).startsWith("2\0ProtocolError\0");
        assertThat(replyTo("admin.vm.List+ work name dom0\0".getBytes())).startsWith("2\0PermissionDenied\0");
        var big = new byte[70000];
        System.arraycopy("admin.vm.notes.Set+ dom0 name work\0".getBytes(), 0, big, 0, 35);
        assertThat(replyTo(big)).startsWith("2\0ProtocolError\0\0request too long");
        // nothing was stored, the daemon still answers
        assertThat(Files.readString(compartd.stateDir().resolve("qubes/work.json"))).isEqualTo(before);
        assertThat(admin.ok("admin.vm.property.Get", "memory", "work", "")).isEqualTo("default=True type=int 400");
    }

    @Test
    void featuresTagsNotesLabelsAndGlobals_roundTrip_andSurviveARestart() throws Exception {
        setUpQubes();
        admin.ok("admin.vm.feature.Set", "os", "fedora", "Linux");
        assertThat(admin.ok("admin.vm.feature.CheckWithTemplate", "os", "work", "")).isEqualTo("Linux");
        admin.ok("admin.vm.tag.Set", "audited", "work", "");
        assertThat(admin.ok("admin.vm.tag.Get", "audited", "work", "")).isEqualTo("1");
        admin.ok("admin.vm.notes.Set", "", "work", "hello\nworld");
        admin.ok("admin.label.Create", "pink", "dom0", "0xff00ff");
        admin.ok("admin.vm.property.Set", "label", "work", "pink");
        admin.ok("admin.vm.property.Set", "memory", "work", "800");
        admin.ok("admin.vm.property.Reset", "vcpus", "work", "");
        compartd.restart();
        assertThat(admin.ok("admin.vm.notes.Get", "", "work", "")).isEqualTo("hello\nworld");
        assertThat(admin.ok("admin.vm.property.Get", "label", "work", "")).isEqualTo("default=False type=label pink");
        assertThat(admin.ok("admin.vm.property.Get", "memory", "work", "")).isEqualTo("default=False type=int 800");
        assertThat(admin.ok("admin.vm.tag.List", "", "work", "")).isEqualTo("audiovm-dom0\naudited\ncreated-by-dom0\nguivm-dom0\n");
        assertThat(admin.ok("admin.label.Index", "pink", "dom0", "")).isEqualTo("9");
    }

    @Test
    void events_streamConnectionEstablished_thenDomainEvents() throws Exception {
        setUpQubes();
        try (var ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(compartd.socket()));
            ch.write(ByteBuffer.wrap("admin.Events+ dom0 name dom0\0".getBytes()));
            ch.shutdownOutput();
            var frames = new StringBuilder();
            var buf = ByteBuffer.allocate(4096);
            ch.read(buf);
            frames.append(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
            assertThat(frames.toString()).isEqualTo("1\0\0connection-established\0\0");
            admin.ok("admin.vm.Start", "", "work", "");
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!frames.toString().contains("1\0work\0domain-start\0") && System.nanoTime() < deadline) {
                buf.clear();
                ch.read(buf);
                frames.append(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
            }
            assertThat(frames.toString()).contains("1\0work\0domain-start\0start_guid\0False\0\0");
        }
    }

    @Test
    void concurrentStarts_andListings_areAllAnswered() throws Exception {
        admin.ok("admin.vm.Create.TemplateVM", "", "dom0", "name=fedora label=black");
        for (int i = 0; i < 20; i++) {
            admin.ok("admin.vm.Create.AppVM", "fedora", "dom0", "name=q" + i + " label=red");
            admin.ok("admin.vm.property.Set", "memory", "q" + i, "100");
        }
        try (var pool = Executors.newFixedThreadPool(21)) {
            var starts = new ArrayList<Future<String>>();
            for (int i = 0; i < 20; i++) {
                String n = "q" + i;
                starts.add(pool.submit(() -> admin.call("admin.vm.Start", "", n, "")));
            }
            var lists = pool.submit(() -> {
                var out = new ArrayList<String>();
                for (int i = 0; i < 50; i++) {
                    out.add(admin.call("admin.vm.List", "", "dom0", ""));
                }
                return out;
            });
            for (var s : starts) {
                assertThat(s.get()).isEqualTo("0|");
            }
            assertThat(lists.get()).allMatch(r -> r.startsWith("0|dom0 class=AdminVM"));
        }
        assertThat(admin.ok("admin.vm.List", "", "dom0", "").lines().filter(l -> l.contains("state=Running")))
                .hasSize(21);
    }
}
