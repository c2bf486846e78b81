package compart.volumes.reflink;

import compart.volumes.PoolConfig;
import compart.volumes.VolumeConfig;
import java.io.ByteArrayInputStream;
import java.util.Map;
import java.util.Random;

/**
 * Runs one volume operation in a separate JVM and halts it — like {@code kill -9}: no finally blocks, no shutdown
 * hooks — right after durable step number {@code crashAt}. Prints {@code COMPLETED <steps>} when the operation
 * finished before that step. Used by {@link ReflinkCrashTest}.
 *
 * <p>Arguments: {@code POOL_DIR SCENARIO CRASH_AT}.
 */
public final class CrashChild {
    static final int HALT_STATUS = 77;
    static final long SIZE = 1 << 20;

    private CrashChild() {}

    static byte[] content(long seed) {
        byte[] b = new byte[(int) SIZE];
        new Random(seed).nextBytes(b);
        return b;
    }

    static PoolConfig config(String dir) {
        return new PoolConfig("crash", ReflinkPoolDriver.NAME, Map.of("dir_path", dir, "setup_check", "no",
                "revisions_to_keep", "3", "reserve_percent", "0"));
    }

    static final String PRIVATE = "appvms/work/private";
    static final String TEMPLATE = "vm-templates/t/root";
    static final String APP_ROOT = "appvms/work/root";

    static VolumeConfig privateConfig() {
        return VolumeConfig.persistent("private", SIZE);
    }

    public static void main(String[] args) {
        String dir = args[0];
        String scenario = args[1];
        int crashAt = Integer.parseInt(args[2]);
        int[] count = {0};
        CrashPoints crash = step -> {
            if (++count[0] == crashAt) {
                System.out.println("CRASH after step " + count[0] + ": " + step);
                System.out.flush();
                Runtime.getRuntime().halt(HALT_STATUS);
            }
        };
        ReflinkPool pool = ReflinkPool.open(config(dir), crash);
        ReflinkVolume priv = pool.volume(PRIVATE, privateConfig());
        switch (scenario) {
            case "stop" -> priv.stop();
            case "revert" -> priv.revert(priv.revisions().getFirst().id());
            case "import" -> priv.importData(new ByteArrayInputStream(content(3)), SIZE);
            case "clone" -> priv.cloneFrom(pool.volume(TEMPLATE, VolumeConfig.persistent("root", SIZE)));
            case "resize" -> priv.resize(2 * SIZE);
            case "start-snapshot" -> pool.volume(APP_ROOT, VolumeConfig.snapshot("root", SIZE, TEMPLATE)).start();
            case "remove" -> priv.remove();
            default -> throw new IllegalArgumentException(scenario);
        }
        System.out.println("COMPLETED " + count[0]);
    }
}
