package compart.volumes.reflink;

import compart.volumes.Pool;
import compart.volumes.PoolConfig;
import compart.volumes.PoolContract;
import compart.volumes.PoolDriver;
import compart.xl.testing.LoopFileSystem;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * The pool contract for {@code file-reflink} on one loop-mounted filesystem per test class (made once, so the
 * instance lives as long as the class); subclasses name the filesystem and the pool options they add.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ReflinkLoopPoolTest extends PoolContract {
    private LoopFileSystem fs;

    /** @return the filesystem, as {@link LoopFileSystem#mount} names it */
    protected abstract String fileSystemType();

    /** @return the size of the filesystem's image */
    protected long fileSystemSize() {
        return 400L * MIB;
    }

    /** @return options every pool of this class gets, beside {@code dir_path} */
    protected Map<String, String> poolOptions() {
        return Map.of();
    }

    @BeforeAll
    void mount() throws Exception {
        fs = LoopFileSystem.mount(fileSystemType(), fileSystemSize());
    }

    @AfterAll
    void unmount() throws Exception {
        if (fs != null) {
            fs.close();
        }
    }

    /** @return the config of a pool {@code name} in this class's filesystem */
    protected PoolConfig config(String name, Map<String, String> options) {
        Map<String, String> o = new HashMap<>(poolOptions());
        o.putAll(options);
        o.put("dir_path", fs.root().resolve(name).toString());
        return new PoolConfig(name, ReflinkPoolDriver.NAME, o);
    }

    @Override
    protected Pool newPool(String name, Map<String, String> options) {
        return PoolDriver.openPool(config(name, options));
    }

    @Override
    protected void destroyPool(Pool pool) throws Exception {
        LoopFileSystem.run("rm", "-rf", pool.config().requiredOption("dir_path"));
        LoopFileSystem.run("sync", "-f", fs.root().toString());
    }

    @Override
    protected Path storageRoot() {
        return fs.root();
    }
}
