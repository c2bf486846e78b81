package compart.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The package's disk hotplug script ({@code /usr/lib/compart/xen/block-loop}) as libxl runs it: {@code add} or
 * {@code remove} with {@code XENBUS_PATH} set. Here with real loop devices (root only) and a xenstore kept in a
 * directory ({@code xenstore-read}/{@code xenstore-write} on PATH, one file per node); on Xen, ScenarioIT starts
 * every qube with it.
 */
class BlockLoopScriptTest {
    private static final Path SCRIPT = Path.of("").toAbsolutePath()
            .resolve("src/dist/root/usr/lib/compart/xen/block-loop");
    private static final String BACKEND = "backend/vbd/7/51712";

    @TempDir
    Path tmp;
    Path store;
    Path tools;
    final List<String> attached = new ArrayList<>();

    @BeforeEach
    void aXenstoreInADirectory() throws IOException {
        assumeTrue("root".equals(System.getProperty("user.name")), "loop devices need root");
        assumeTrue(Files.exists(Path.of("/dev/loop-control")), "no /dev/loop-control: the loop module is not loaded");
        store = Files.createDirectories(tmp.resolve("store"));
        tools = Files.createDirectories(tmp.resolve("bin"));
        tool("xenstore-read", """
                #!/bin/sh
                # prints each node's value on a line; fails, printing nothing, if one is missing (as Xen's tool)
                for p; do [ -f "$STORE/$p" ] || { echo "xenstore-read: couldn't read path $p" >&2; exit 1; }; done
                for p; do cat "$STORE/$p"; echo; done
                """);
        tool("xenstore-write", """
                #!/bin/sh
                while [ $# -ge 2 ]; do mkdir -p "$STORE/$(dirname "$1")"; printf %s "$2" > "$STORE/$1"; shift 2; done
                """);
    }

    @AfterEach
    void detachWhatIsLeft() throws Exception {
        for (String dev : attached) {
            new ProcessBuilder("losetup", "--detach", dev).redirectErrorStream(true).start().waitFor();
        }
    }

    private void tool(String name, String text) throws IOException {
        Path file = tools.resolve(name);
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private void node(String name, String value) throws IOException {
        Path file = store.resolve(BACKEND).resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, value);
    }

    private String node(String name) throws IOException {
        Path file = store.resolve(BACKEND).resolve(name);
        return Files.exists(file) ? Files.readString(file) : null;
    }

    private int run(String action) throws Exception {
        var builder = new ProcessBuilder("sh", SCRIPT.toString(), action).redirectErrorStream(true);
        builder.environment().put("XENBUS_PATH", BACKEND);
        builder.environment().put("STORE", store.toString());
        builder.environment().put("PATH", tools + ":" + System.getenv("PATH"));
        Process p = builder.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(output).isTrue();
        String dev = node("node");
        if (dev != null && !attached.contains(dev)) {
            attached.add(dev);
        }
        return p.exitValue();
    }

    private Path volume(String name) throws IOException {
        Path file = tmp.resolve(name);
        try (var raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(4 << 20);
        }
        return file;
    }

    private static String backingFile(String dev) throws IOException {
        return Files.readString(Path.of("/sys/block", Path.of(dev).getFileName().toString(), "loop/backing_file"))
                .strip();
    }

    private static boolean readOnly(String dev) throws IOException {
        return Files.readString(Path.of("/sys/block", Path.of(dev).getFileName().toString(), "ro")).strip()
                .equals("1");
    }

    private static String majorMinorHex(String dev) throws Exception {
        Process p = new ProcessBuilder("stat", "-L", "-c", "%t:%T", dev).start();
        String mm = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        p.waitFor();
        return mm;
    }

    @Test
    void add_attachesTheVolumeFileToALoopDevice_andTellsBlkback_remove_detachesIt() throws Exception {
        Path file = volume("private.img");
        node("params", file.toString());
        node("mode", "w");

        assertThat(run("add")).isZero();

        String dev = node("node");
        assertThat(dev).startsWith("/dev/loop");
        assertThat(backingFile(dev)).isEqualTo(file.toString());
        assertThat(readOnly(dev)).isFalse();
        assertThat(node("physical-device")).isEqualTo(majorMinorHex(dev));
        assertThat(node("physical-device-path")).isEqualTo(dev);
        assertThat(node("hotplug-status")).isEqualTo("connected");

        assertThat(run("remove")).isZero();
        assertThat(Path.of("/sys/block", Path.of(dev).getFileName().toString(), "loop")).doesNotExist();
    }

    @Test
    void aReadOnlyDisk_getsAReadOnlyLoopDevice() throws Exception {
        node("params", volume("modules.img").toString());
        node("mode", "r");

        assertThat(run("add")).isZero();

        assertThat(readOnly(node("node"))).isTrue();
    }

    @Test
    void aSecondAdd_forTheSameDevice_changesNothing() throws Exception {
        node("params", volume("root.img").toString());
        node("mode", "w");
        assertThat(run("add")).isZero();
        String first = node("node");

        assertThat(run("add")).isZero();

        assertThat(node("node")).isEqualTo(first);
        assertThat(attached).hasSize(1);
    }

    @Test
    void aBlockDeviceVolume_isGivenAsItIs_andRemoveLeavesItAlone() throws Exception {
        Process setup = new ProcessBuilder("losetup", "--find", "--show", volume("lv.img").toString()).start();
        String lv = new String(setup.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(setup.waitFor()).isZero();
        attached.add(lv);
        node("params", lv);
        node("mode", "w");

        assertThat(run("add")).isZero();
        assertThat(node("node")).as("no loop device of the script's own").isNull();
        assertThat(node("physical-device")).isEqualTo(majorMinorHex(lv));
        assertThat(node("hotplug-status")).isEqualTo("connected");

        assertThat(run("remove")).isZero();
        assertThat(backingFile(lv)).endsWith("lv.img");
    }

    @Test
    void aMissingVolume_failsWithTheReasonInXenstore_forLibxlToReport() throws Exception {
        node("params", tmp.resolve("gone.img").toString());
        node("mode", "w");

        assertThat(run("add")).isEqualTo(1);

        assertThat(node("hotplug-status")).isEqualTo("error");
        assertThat(node("hotplug-error")).contains("gone.img").contains("neither a file nor a block device");
        assertThat(node("physical-device")).isNull();
    }
}
