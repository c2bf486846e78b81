package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.model.QubeClass;
import compart.core.storage.Storage;
import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import compart.xl.testing.LoopFileSystem;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * compartd as a separate process (child JVM), killed with SIGKILL while clients create qubes, set properties,
 * clone volumes and start qubes; then a new daemon on the same state: every acknowledged change is there, no
 * entry is broken, the inventory's rules hold, every qube has its committed images, no image is left started,
 * staged or orphaned, and the daemon serves. Three kills in a row on the same state. On loop XFS with reflink
 * when root (CI), else on the temporary directory with the plain-copy pool.
 */
class DaemonCrashTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(1_000_000).startedByTheTest();
    final Wire wire = compartd.admin();
    LoopFileSystem xfs;

    @AfterEach
    void unmount() throws Exception {
        if (xfs != null) {
            xfs.close();
        }
    }

    /** @return compartd in a child JVM, with the same command line as {@link #compartd} */
    Process spawn() throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        var cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED,compart.xl", "-p",
                System.getProperty("jdk.module.path"), "-m", "compart.core/compart.core.daemon.Compartd"));
        cmd.addAll(compartd.arguments());
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(compartd.dir().resolve("child.log").toFile())).start();
    }

    static void awaitSocket(Wire wire, Process p) throws Exception {
        for (int i = 0; i < 600; i++) {
            assertThat(p.isAlive()).as("child compartd is alive").isTrue();
            try {
                wire.ok("admin.vm.List", "", "dom0", "");
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("child compartd did not answer within 60 s");
    }

    static void write(Path f, String s) throws IOException {
        try (var r = new RandomAccessFile(f.toFile(), "rw")) {
            r.write(s.getBytes(StandardCharsets.US_ASCII));
            r.getFD().sync();
        }
    }

    static String read(Path f, int n) throws IOException {
        try (var r = new RandomAccessFile(f.toFile(), "r")) {
            var b = new byte[n];
            r.readFully(b);
            return new String(b, StandardCharsets.US_ASCII);
        }
    }

    @Test
    void killedDuringCreateCloneAndStart_comesBackWithEveryAcknowledgedChange_andConsistentVolumes() throws Exception {
        if (LoopFileSystem.isRoot() && LoopFileSystem.onPath("mkfs.xfs")) {
            xfs = LoopFileSystem.mount("xfs", 2048L << 20);
            compartd.stateDir(xfs.root().resolve("state"));
        }
        Path state = compartd.stateDir();
        var created = ConcurrentHashMap.<String>newKeySet();
        var memory = new ConcurrentHashMap<String, String>();
        var cloned = ConcurrentHashMap.<String>newKeySet();
        var random = new Random(42);

        var first = spawn();
        awaitSocket(wire, first);
        wire.ok("admin.vm.Create.TemplateVM", "", "dom0", "name=tpl label=black");
        wire.ok("admin.vm.Create.AppVM", "tpl", "dom0", "name=src label=red");
        write(state.resolve("pool/appvms/src/private.img"), "SOURCE-PRIVATE");
        first.destroyForcibly().waitFor();

        for (int round = 0; round < 3; round++) {
            var child = spawn();
            awaitSocket(wire, child);
            var stop = new AtomicBoolean();
            var workers = new ArrayList<Thread>();
            for (int w = 0; w < 4; w++) {
                int worker = w;
                int r = round;
                workers.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        String name = "r" + r + "w" + worker + "n" + i;
                        try {
                            wire.ok("admin.vm.Create.AppVM", "tpl", "dom0", "name=" + name + " label=blue");
                            created.add(name);
                            String mem = Integer.toString(300 + i);
                            wire.ok("admin.vm.property.Set", "memory", name, mem);
                            memory.put(name, mem);
                            String token = wire.ok("admin.vm.volume.CloneFrom", "private", "src", "");
                            wire.ok("admin.vm.volume.CloneTo", "private", name, token);
                            cloned.add(name);
                            if (i % 2 == 0) {
                                wire.ok("admin.vm.Start", "", name, "");
                            }
                        } catch (IOException | AssertionError e) {
                            return; // the daemon is gone: what was acknowledged before counts
                        }
                    }
                }));
            }
            Thread.sleep(400 + random.nextInt(1200));
            child.destroyForcibly(); // SIGKILL
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            stop.set(true);
            for (var t : workers) {
                t.join(30_000);
            }
        }
        assertThat(created).as("the clients got work done before the kills").isNotEmpty();

        try (var daemon = compartd.start()) {
            var ts = daemon.toolstack();
            var inv = ts.inventory();
            assertThat(ts.broken()).as("entries that could not be read").isEmpty();
            assertThat(inv.violations()).isEmpty();
            assertThat(inv.qubes().keySet()).containsAll(created);
            memory.forEach((q, m) -> assertThat(inv.value(inv.qube(q), "memory")).as(q).contains(m));
            Path pool = state.resolve("pool");
            for (var q : inv.qubes().values()) {
                if (q.klass() == QubeClass.AdminVM) {
                    continue;
                }
                for (var v : q.volumes().values()) {
                    if (Storage.managed(inv, v) && v.saveOnStop()) {
                        assertThat(pool.resolve(v.vid() + ".img")).as("committed image of %s", v.vid()).exists();
                    }
                }
                assertThat(wire.ok("admin.vm.CurrentState", "", q.name(), "")).endsWith("power_state=Halted");
            }
            for (String q : cloned) {
                assertThat(read(pool.resolve("appvms/" + q + "/private.img"), 14)).as(q).isEqualTo("SOURCE-PRIVATE");
            }
            var owned = new HashSet<String>();
            inv.qubes().values().forEach(q -> q.volumes().values().forEach(v -> owned.add(v.vid())));
            try (Stream<Path> files = Files.walk(pool)) {
                var leftovers = files.filter(Files::isRegularFile).map(p -> pool.relativize(p).toString())
                        .filter(n -> n.endsWith("-dirty.img") || n.endsWith(".new") || n.contains("~")
                                || n.endsWith(".img") && !owned.contains(n.substring(0, n.length() - 4)))
                        .toList();
                assertThat(leftovers).as("started, staged, temporary or orphaned files").isEmpty();
            }
            String any = created.iterator().next();
            wire.ok("admin.vm.Start", "", any, "");
            assertThat(wire.ok("admin.vm.List", "", "dom0", "")).contains(any + " class=AppVM state=Running");
            System.out.printf("crash test: %d qubes created, %d cloned before 3 kills; all found consistent%n",
                    created.size(), cloned.size());
        }
    }
}
