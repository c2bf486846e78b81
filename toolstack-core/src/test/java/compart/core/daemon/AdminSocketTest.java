package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Speaks the raw Admin API wire protocol to a running compartd (test hypervisor) on a temporary socket. */
class AdminSocketTest {
    @TempDir
    Path dir;
    Compartd.Running daemon;
    Path socket;

    @BeforeEach
    void startDaemon() {
        var d = new Compartd();
        socket = dir.resolve("qubesd.sock");
        d.socket = socket;
        d.stateDir = dir.resolve("state");
        d.hypervisor = "test";
        d.testMemoryMib = 8192;
        daemon = d.start();
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    /** Sends raw bytes, closes the write side, returns everything the daemon answered. */
    byte[] raw(byte[] request) throws Exception {
        try (var ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            var b = ByteBuffer.wrap(request);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.shutdownOutput();
            var out = new ByteArrayOutputStream();
            var buf = ByteBuffer.allocate(65536);
            while (ch.read(buf) >= 0) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            return out.toByteArray();
        }
    }

    /** Like qubesadmin: "{method}+{arg} dom0 name {dest}\0" + payload. Returns the reply with NULs shown as |. */
    String call(String method, String arg, String dest, String payload) throws Exception {
        var req = (method + "+" + arg + " dom0 name " + dest + "\0" + payload).getBytes(StandardCharsets.UTF_8);
        return new String(raw(req), StandardCharsets.UTF_8).replace('\0', '|');
    }

    String ok(String method, String arg, String dest, String payload) throws Exception {
        String r = call(method, arg, dest, payload);
        assertThat(r).as(method + "+" + arg + " " + dest).startsWith("0|");
        return r.substring(2);
    }

    void setUpQubes() throws Exception {
        ok("admin.vm.Create.TemplateVM", "", "dom0", "name=fedora label=black");
        ok("admin.property.Set", "default_template", "dom0", "fedora");
        ok("admin.vm.Create.AppVM", "", "dom0", "name=sys-net label=red");
        ok("admin.vm.property.Set", "provides_network", "sys-net", "True");
        ok("admin.vm.Create.AppVM", "fedora", "dom0", "name=work label=blue");
        ok("admin.vm.property.Set", "netvm", "work", "sys-net");
    }

    @Test
    void vmList_freshDaemon_listsDom0() throws Exception {
        assertThat(call("admin.vm.List", "", "dom0", ""))
                .isEqualTo("0|dom0 class=AdminVM state=Running uuid=00000000-0000-0000-0000-000000000000\n");
        assertThat(Files.getPosixFilePermissions(socket)).extracting(Object::toString)
                .containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE", "GROUP_READ", "GROUP_WRITE");
    }

    @Test
    void goldenReplies_forTheCommonMethods() throws Exception {
        setUpQubes();
        assertThat(call("admin.label.List", "", "dom0", ""))
                .isEqualTo("0|red\norange\nyellow\ngreen\ngray\nblue\npurple\nblack\n");
        assertThat(call("admin.label.Get", "red", "dom0", "")).isEqualTo("0|0xcc0000");
        assertThat(call("admin.label.Index", "black", "dom0", "")).isEqualTo("0|8");
        assertThat(call("admin.vmclass.List", "", "dom0", ""))
                .isEqualTo("0|AdminVM\nAppVM\nDispVM\nStandaloneVM\nTemplateVM\n");
        assertThat(call("admin.pool.List", "", "dom0", "")).isEqualTo("0|linux-kernel\nvarlibqubes\n");
        assertThat(call("admin.vm.property.Get", "memory", "work", "")).isEqualTo("0|default=True type=int 400");
        assertThat(call("admin.vm.property.Get", "netvm", "work", "")).isEqualTo("0|default=False type=vm sys-net");
        assertThat(call("admin.vm.property.Get", "template", "work", "")).isEqualTo("0|default=False type=vm fedora");
        assertThat(call("admin.vm.property.Get", "label", "work", "")).isEqualTo("0|default=False type=label blue");
        assertThat(call("admin.vm.property.Get", "ip", "work", "")).isEqualTo("0|default=True type=str 10.137.0.3");
        assertThat(call("admin.vm.property.Get", "debug", "work", "")).isEqualTo("0|default=True type=bool False");
        assertThat(call("admin.vm.property.Get", "netvm", "fedora", "")).isEqualTo("0|default=True type=vm ");
        assertThat(call("admin.vm.property.GetDefault", "vcpus", "work", "")).isEqualTo("0|type=int 2");
        assertThat(call("admin.property.Get", "default_template", "dom0", ""))
                .isEqualTo("0|default=False type=vm fedora");
        assertThat(call("admin.property.Get", "default_netvm", "dom0", "")).isEqualTo("0|default=True type=vm ");
        assertThat(call("admin.vm.tag.List", "", "work", "")).isEqualTo("0|created-by-dom0\n");
        assertThat(call("admin.vm.volume.List", "", "work", "")).isEqualTo("0|kernel\nprivate\nroot\nvolatile\n");
        assertThat(ok("admin.vm.volume.Info", "root", "work", "")).contains("snap_on_start=True\n")
                .contains("source=vm-templates/fedora/root\n").startsWith("pool=varlibqubes\nvid=appvms/work/root\n");
        String all = ok("admin.vm.property.GetAll", "", "work", "");
        assertThat(all).contains("memory default=True type=int 400\n").contains("netvm default=False type=vm sys-net\n")
                .contains("klass default=True type=str AppVM\n");
        assertThat(call("admin.vm.CurrentState", "", "work", ""))
                .isEqualTo("0|mem=0 mem_static_max=0 cputime=0 power_state=Halted");
        assertThat(call("admin.vm.firewall.Get", "", "work", "")).isEqualTo("0|action=accept\n");
    }

    @Test
    void lifecycle_startShutdownPauseKill_onTheTestHypervisor() throws Exception {
        setUpQubes();
        assertThat(call("admin.vm.Start", "", "work", "")).isEqualTo("0|");
        // the netvm was started first
        assertThat(ok("admin.vm.List", "", "dom0", "")).contains("sys-net class=AppVM state=Running")
                .contains("work class=AppVM state=Running").contains("fedora class=TemplateVM state=Halted");
        assertThat(ok("admin.vm.CurrentState", "", "work", "")).contains("mem=409600").endsWith("power_state=Running");
        var spec = ((compart.core.hypervisor.test.TestHypervisor) daemon.toolstack().hypervisor()).specOf("work")
                .orElseThrow();
        assertThat(spec.nics()).singleElement().satisfies(n -> {
            assertThat(n.backend()).isEqualTo("sys-net");
            assertThat(n.ip()).isEqualTo("10.137.0.3");
        });
        assertThat(spec.disks()).extracting(d -> d.vdev()).containsExactly("xvda", "xvdb", "xvdc");
        assertThat(call("admin.vm.Pause", "", "work", "")).isEqualTo("0|");
        assertThat(call("admin.vm.Pause", "", "work", "")).startsWith("2|QubesVMNotRunningError||");
        assertThat(call("admin.vm.Unpause", "", "work", "")).isEqualTo("0|");
        assertThat(call("admin.vm.Unpause", "", "work", "")).startsWith("2|QubesVMNotPausedError||");
        assertThat(call("admin.vm.property.Set", "template", "work", "fedora"))
                .startsWith("2|QubesVMNotHaltedError||");
        assertThat(call("admin.vm.Remove", "", "work", "")).startsWith("2|QubesVMNotHaltedError||");
        assertThat(call("admin.vm.Shutdown", "", "sys-net", "")).startsWith("2|QubesVMError||There are other VMs");
        assertThat(call("admin.vm.Shutdown", "wait", "work", "")).isEqualTo("0|");
        assertThat(ok("admin.vm.List", "", "work", "")).contains("state=Halted");
        assertThat(call("admin.vm.Shutdown", "", "work", "")).startsWith("2|QubesVMNotStartedError||");
        assertThat(call("admin.vm.Kill", "", "sys-net", "")).isEqualTo("0|");
        assertThat(call("admin.vm.Remove", "", "work", "")).isEqualTo("0|");
        assertThat(ok("admin.vm.List", "", "dom0", "")).doesNotContain("work ");
    }

    @Test
    void badInput_getsTheRightException_nothingIsStored_andTheDaemonKeepsServing() throws Exception {
        setUpQubes();
        var before = Files.readString(dir.resolve("state/qubes/work.json"));
        assertThat(call("admin.vm.property.Get", "memory", "nosuch", "")).isEqualTo(
                "2|QubesVMNotFoundError||No such domain: 'nosuch'|");
        assertThat(call("admin.vm.property.Set", "memory", "work", "-1")).startsWith("2|QubesPropertyValueError||");
        assertThat(call("admin.vm.property.Set", "memory", "work", "lots")).startsWith("2|QubesPropertyValueError||");
        assertThat(call("admin.vm.property.Set", "netvm", "work", "fedora"))
                .startsWith("2|QubesPropertyValueError||The fedora qube does not provide network");
        assertThat(call("admin.vm.property.Set", "nosuch", "work", "1")).startsWith("2|QubesNoSuchPropertyError||");
        assertThat(call("admin.vm.property.Set", "memory", "work", "\u00e9")).startsWith("2|QubesPropertyValueError||");
        assertThat(call("admin.vm.Create.AppVM", "", "dom0", "name=1bad label=red")).startsWith("2|QubesValueError||");
        assertThat(call("admin.vm.Create.AppVM", "", "dom0", "name=work label=red"))
                .startsWith("2|QubesVMAlreadyExistsError||");
        assertThat(call("admin.vm.Create.AppVM", "", "dom0", "name=x label=pink"))
                .startsWith("2|QubesLabelNotFoundError||");
        assertThat(call("admin.vm.Create.AppVM", "", "dom0", "name=x")).startsWith("2|ProtocolError||");
        assertThat(call("admin.vm.Create.AppVM", "", "dom0", "")).startsWith("2|ProtocolError||expected payload");
        assertThat(call("admin.vm.List", "", "dom0", "junk")).startsWith("2|ProtocolError||unexpected payload");
        assertThat(call("admin.vm.property.Get", "", "work", "")).startsWith("2|ProtocolError||expected an argument");
        assertThat(call("admin.label.List", "", "work", "")).startsWith("2|ProtocolError||expected destination");
        assertThat(call("admin.vm.Remove", "", "fedora", "")).startsWith("2|QubesVMInUseError||");
        assertThat(call("admin.vm.Remove", "", "dom0", "")).startsWith("2|QubesVMInUseError||");
        assertThat(call("admin.vm.feature.Get", "nosuch", "work", "")).startsWith("2|QubesFeatureNotFoundError||");
        assertThat(call("admin.vm.tag.Remove", "nosuch", "work", "")).startsWith("2|QubesTagNotFoundError||");
        assertThat(call("admin.vm.tag.Set", "bad tag", "work", "")).startsWith("2|");
        assertThat(call("admin.no.such.Method", "", "dom0", "")).startsWith("2|ProtocolError||no such method");
        assertThat(call("admin.backup.Execute", "x", "dom0", "")).startsWith("2|QubesNotImplementedError||");
        assertThat(call("admin.vm.firewall.Set", "", "work", "action=maybe"))
                .startsWith("2|QubesValueError||");
        // framing errors, a foreign source, an oversized request: still an exception reply
        assertThat(new String(raw("garbage".getBytes()), StandardCharsets.UTF_8)).startsWith("2\0ProtocolError\0");
        assertThat(new String(raw("admin.vm.List+ dom0 uuid x\0".getBytes()), StandardCharsets.UTF_8))
                .startsWith("2\0ProtocolError\0");
        assertThat(new String(raw("admin.vm.List+ work name dom0\0".getBytes()), StandardCharsets.UTF_8))
                .startsWith("2\0PermissionDenied\0");
        var big = new byte[70000];
        System.arraycopy("admin.vm.notes.Set+ dom0 name work\0".getBytes(), 0, big, 0, 35);
        assertThat(new String(raw(big), StandardCharsets.UTF_8)).startsWith("2\0ProtocolError\0\0request too long");
        // nothing was stored, the daemon still answers
        assertThat(Files.readString(dir.resolve("state/qubes/work.json"))).isEqualTo(before);
        assertThat(ok("admin.vm.property.Get", "memory", "work", "")).isEqualTo("default=True type=int 400");
    }

    @Test
    void featuresTagsNotesLabelsAndGlobals_roundTrip_andSurviveARestart() throws Exception {
        setUpQubes();
        ok("admin.vm.feature.Set", "os", "fedora", "Linux");
        assertThat(ok("admin.vm.feature.CheckWithTemplate", "os", "work", "")).isEqualTo("Linux");
        ok("admin.vm.tag.Set", "audited", "work", "");
        assertThat(ok("admin.vm.tag.Get", "audited", "work", "")).isEqualTo("1");
        ok("admin.vm.notes.Set", "", "work", "hello\nworld");
        ok("admin.label.Create", "pink", "dom0", "0xff00ff");
        ok("admin.vm.property.Set", "label", "work", "pink");
        ok("admin.vm.property.Set", "memory", "work", "800");
        ok("admin.vm.property.Reset", "vcpus", "work", "");
        daemon.close();
        startDaemon();
        assertThat(ok("admin.vm.notes.Get", "", "work", "")).isEqualTo("hello\nworld");
        assertThat(ok("admin.vm.property.Get", "label", "work", "")).isEqualTo("default=False type=label pink");
        assertThat(ok("admin.vm.property.Get", "memory", "work", "")).isEqualTo("default=False type=int 800");
        assertThat(ok("admin.vm.tag.List", "", "work", "")).isEqualTo("audited\ncreated-by-dom0\n");
        assertThat(ok("admin.label.Index", "pink", "dom0", "")).isEqualTo("9");
    }

    @Test
    void events_streamConnectionEstablished_thenDomainEvents() throws Exception {
        setUpQubes();
        try (var ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap("admin.Events+ dom0 name dom0\0".getBytes()));
            ch.shutdownOutput();
            var frames = new StringBuilder();
            var buf = ByteBuffer.allocate(4096);
            ch.read(buf);
            frames.append(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
            assertThat(frames.toString()).isEqualTo("1\0\0connection-established\0\0");
            ok("admin.vm.Start", "", "work", "");
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
        ok("admin.vm.Create.TemplateVM", "", "dom0", "name=fedora label=black");
        for (int i = 0; i < 20; i++) {
            ok("admin.vm.Create.AppVM", "fedora", "dom0", "name=q" + i + " label=red");
            ok("admin.vm.property.Set", "memory", "q" + i, "100");
        }
        try (var pool = Executors.newFixedThreadPool(21)) {
            var starts = new ArrayList<Future<String>>();
            for (int i = 0; i < 20; i++) {
                String n = "q" + i;
                starts.add(pool.submit(() -> call("admin.vm.Start", "", n, "")));
            }
            var lists = pool.submit(() -> {
                var out = new ArrayList<String>();
                for (int i = 0; i < 50; i++) {
                    out.add(call("admin.vm.List", "", "dom0", ""));
                }
                return out;
            });
            for (var s : starts) {
                assertThat(s.get()).isEqualTo("0|");
            }
            assertThat(lists.get()).allMatch(r -> r.startsWith("0|dom0 class=AdminVM"));
        }
        assertThat(ok("admin.vm.List", "", "dom0", "").lines().filter(l -> l.contains("state=Running"))).hasSize(21);
    }
}
