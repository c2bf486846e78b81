package compart.volumes.reflink;

import compart.volumes.LoopFileSystem;
import compart.volumes.Pool;
import compart.volumes.PoolConfig;
import compart.volumes.PoolContract;
import compart.volumes.PoolDriver;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The pool contract for {@code file-reflink} on a loop-mounted btrfs. */
class ReflinkBtrfsPoolTest extends PoolContract {
    private static LoopFileSystem fs;

    @BeforeAll
    static void mount() throws Exception {
        fs = LoopFileSystem.mount("btrfs", 400L * MIB);
    }

    @AfterAll
    static void unmount() throws Exception {
        if (fs != null) {
            fs.close();
        }
    }

    @Override
    protected Pool newPool(String name, Map<String, String> options) {
        Map<String, String> o = new HashMap<>(options);
        o.put("dir_path", fs.root().resolve(name).toString());
        return PoolDriver.openPool(new PoolConfig(name, ReflinkPoolDriver.NAME, o));
    }

    @Override
    protected void destroyPool(Pool pool) throws Exception {
        Path dir = Path.of(pool.config().requiredOption("dir_path"));
        LoopFileSystem.run("rm", "-rf", dir.toString());
        LoopFileSystem.run("sync", "-f", fs.root().toString());
    }

    @Override
    protected Path storageRoot() {
        return fs.root();
    }
}
