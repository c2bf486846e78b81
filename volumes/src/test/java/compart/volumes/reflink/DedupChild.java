package compart.volumes.reflink;

import compart.volumes.PoolConfig;
import compart.xl.linux.Extent;
import compart.xl.linux.LinuxFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import compart.volumes.PoolDriver;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Opens a {@code file-reflink} pool with {@code dedup=on} in a JVM of its own — as the daemon does at its start,
 * which runs a pass — and once the pass has merged some blocks, makes it wait (as a qube's start would), prints
 * {@code MERGING}, and waits to be killed in the middle of the pass. Used by {@link DedupOnCommitTest}. Argument:
 * {@code POOL_DIR}.
 */
public final class DedupChild {
    private DedupChild() {}

    static PoolConfig config(String dir) {
        return new PoolConfig("kept", ReflinkPoolDriver.NAME, Map.of("dir_path", dir, "dedup", "on",
                "reserve_percent", "0"));
    }

    /** @return whether any committed image of the pool shares blocks yet (FIEMAP) */
    private static boolean mergedSome(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".img")).toList()) {
                try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ)) {
                    if (f.extents(0, Long.MAX_VALUE, true).stream().anyMatch(Extent::shared)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    public static void main(String[] args) throws InterruptedException, IOException {
        ReflinkPool pool = (ReflinkPool) PoolDriver.openPool(config(args[0]));
        while (!mergedSome(Path.of(args[0]))) {
            String state = pool.figures().get("dedup_state");
            if (state.equals("idle") || state.equals("failed")) {
                System.out.println("ENDED WITHOUT MERGING " + pool.figures());
                System.exit(1);
            }
            Thread.sleep(1);
        }
        pool.busy(); // never closed: the pass waits until the kill
        while (!pool.figures().get("dedup_state").equals("paused")) {
            Thread.sleep(1);
        }
        System.out.println("MERGING " + pool.figures().get("dedup_progress"));
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
