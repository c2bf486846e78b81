package compart.volumes.reflink;

import static compart.volumes.reflink.CrashChild.PRIVATE;
import static compart.volumes.reflink.CrashChild.SIZE;
import static compart.volumes.reflink.CrashChild.TEMPLATE;
import static compart.volumes.reflink.CrashChild.content;
import static org.assertj.core.api.Assertions.assertThat;

import compart.volumes.ChildJvm;
import compart.volumes.Revision;
import compart.volumes.Volume;
import compart.volumes.VolumeConfig;
import compart.xl.testing.LoopFileSystem;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Crash injection: each operation runs in a child JVM that halts (as {@code kill -9} would) after its 1st, 2nd, …
 * durable step, until it completes; after each crash the next start/stop repairs the volume, and the test checks
 * that no committed data — the committed image, the revisions, the qube's writes of a stopped run — was lost and
 * no temporary file is left. Runs on XFS and btrfs, and on ext4, where the pool ({@code setup_check=no}) copies
 * instead of cloning.
 */
class ReflinkCrashTest {
    private static final byte[] A = content(1); // committed before the operation
    private static final byte[] B = content(2); // written by the qube while running, or an older revision
    private static final byte[] C = content(3); // imported
    private static final byte[] D = content(4); // the template's, for clone and snapshot
    private static final List<LoopFileSystem> mounts = new ArrayList<>();

    @BeforeAll
    static void mount() throws Exception {
        mounts.add(LoopFileSystem.mount("xfs", 320L << 20));
        mounts.add(LoopFileSystem.mount("btrfs", 256L << 20));
        mounts.add(LoopFileSystem.mount("ext4", 128L << 20));
    }

    @AfterAll
    static void unmount() throws Exception {
        for (LoopFileSystem fs : mounts) {
            fs.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"stop", "revert", "import", "clone", "resize", "start-snapshot", "remove"})
    void everyCrashPoint_isRepairedByTheNextStartOrStop_withoutLosingCommittedData(String scenario) throws Exception {
        for (LoopFileSystem fs : mounts) {
            int steps = 0;
            for (int crashAt = 1; ; crashAt++) {
                Path dir = fs.root().resolve(scenario + "-" + crashAt);
                prepare(dir, scenario);
                String out = runChild(dir, scenario, crashAt);
                boolean completed = out.contains("COMPLETED");
                assertThat(completed || out.contains("CRASH")).as("child output: %s", out).isTrue();
                ReflinkPool pool = ReflinkPool.open(CrashChild.config(dir.toString()), CrashPoints.NONE);
                verifyAfterRepair(pool, scenario, "%s on %s, crash after step %d (%s)".formatted(scenario,
                        fs.root(), crashAt, out.strip()));
                assertThat(temporaries(dir)).as("temporaries after repair").isEmpty();
                LoopFileSystem.run("rm", "-rf", dir.toString());
                if (completed) {
                    steps = crashAt - 1;
                    break;
                }
            }
            assertThat(steps).as("%s has durable steps to crash between", scenario).isGreaterThan(0);
        }
    }

    /** Builds the state before the operation, in this JVM, without crash points. */
    private static void prepare(Path dir, String scenario) throws IOException {
        ReflinkPool pool = ReflinkPool.open(CrashChild.config(dir.toString()), CrashPoints.NONE);
        Volume tpl = pool.volume(TEMPLATE, VolumeConfig.persistent("root", SIZE));
        tpl.create();
        tpl.start();
        write(tpl, D);
        tpl.stop();
        Volume priv = pool.volume(PRIVATE, CrashChild.privateConfig());
        priv.create();
        priv.start();
        write(priv, scenario.equals("revert") ? B : A);
        priv.stop();
        if (scenario.equals("revert")) {
            priv.start();
            write(priv, A);
            priv.stop(); // committed A, revisions [B]
        }
        if (scenario.equals("stop")) {
            priv.start();
            write(priv, B); // running, the qube wrote B; the child stops it
        }
    }

    private static void verifyAfterRepair(ReflinkPool pool, String scenario, String what) throws IOException {
        Volume priv = pool.volume(PRIVATE, CrashChild.privateConfig());
        Volume tpl = pool.volume(TEMPLATE, VolumeConfig.persistent("root", SIZE));
        switch (scenario) {
            case "stop" -> {
                priv.start(); // the next start (or stop) repairs
                priv.stop();
                assertThat(committed(priv)).as(what + ": the qube's writes are committed").isEqualTo(B);
                assertThat(revisionContents(priv)).as(what + ": the old state is a revision").contains(key(A));
            }
            case "revert", "import", "clone" -> {
                byte[] target = switch (scenario) {
                    case "revert" -> B;
                    case "import" -> C;
                    default -> D;
                };
                priv.stop(); // a stop of a stopped volume repairs too
                byte[] now = committed(priv);
                assertThat(key(now)).as(what + ": committed is the old or the new image, never partial")
                        .isIn(key(A), key(target));
                Set<String> all = new LinkedHashSet<>(revisionContents(priv));
                all.add(key(now));
                assertThat(all).as(what + ": the old committed image survives").contains(key(A));
                if (scenario.equals("revert")) {
                    assertThat(all).as(what + ": the revision survives").contains(key(B));
                }
            }
            case "resize" -> {
                priv.stop();
                assertThat(priv.size()).as(what).isIn(SIZE, 2 * SIZE);
                assertThat(Arrays.copyOf(committed(priv), (int) SIZE)).as(what).isEqualTo(A);
            }
            case "start-snapshot" -> {
                Volume root = pool.volume(CrashChild.APP_ROOT, VolumeConfig.snapshot("root", SIZE, TEMPLATE));
                root.start();
                assertThat(read(root)).as(what).isEqualTo(D);
                root.stop();
            }
            case "remove" -> {
                priv.stop();
                List<String> ids = pool.volumeIds();
                if (ids.contains(PRIVATE)) {
                    priv.remove(); // removal is re-runnable after a crash
                }
                assertThat(pool.volumeIds()).as(what).containsExactly(TEMPLATE);
            }
            default -> throw new IllegalArgumentException(scenario);
        }
        assertThat(committed(tpl)).as(what + ": the template is untouched").isEqualTo(D);
    }

    private static String runChild(Path dir, String scenario, int crashAt) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(ChildJvm.command(List.of("-Xshare:auto"), CrashChild.class, ReflinkPool.class));
        cmd.addAll(List.of(CrashChild.class.getName(), dir.toString(), scenario, Integer.toString(crashAt)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        assertThat(rc).as("child exit status; output: %s", out).isIn(0, CrashChild.HALT_STATUS);
        return out;
    }

    private static void write(Volume v, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(v.blockDevicePath(), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data), 0);
        }
    }

    private static byte[] read(Volume v) throws IOException {
        return Arrays.copyOf(Files.readAllBytes(v.blockDevicePath()), (int) SIZE);
    }

    private static byte[] committed(Volume v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        v.exportData(out);
        return out.toByteArray();
    }

    private static List<String> revisionContents(Volume v) {
        Path clean = Path.of(v.blockDevicePath().toString().replace("-dirty.img", ".img"));
        List<String> keys = new ArrayList<>();
        for (Revision r : v.revisions()) {
            try {
                keys.add(key(Files.readAllBytes(clean.resolveSibling(clean.getFileName() + "@" + r.id()))));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return keys;
    }

    private static String key(byte[] b) {
        return Arrays.equals(b, A) ? "A" : Arrays.equals(b, B) ? "B" : Arrays.equals(b, C) ? "C"
                : Arrays.equals(b, D) ? "D" : "other(" + Arrays.hashCode(b) + ", " + b.length + " bytes)";
    }

    private static List<Path> temporaries(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.getFileName().toString().contains("~")).toList();
        }
    }
}
