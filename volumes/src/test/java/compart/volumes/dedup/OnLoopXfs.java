package compart.volumes.dedup;

import compart.xl.testing.LoopFileSystem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The place a dedup test works in: a loop-mounted XFS of 320 MiB with reflinks, shared by the test class; each test
 * gets its own directory {@link #dir} on it and a hash file {@link #hashFile} outside it, both removed afterwards.
 */
abstract class OnLoopXfs {
    @RegisterExtension
    static final LoopFileSystem.PerClass fs = LoopFileSystem.perClass("xfs", 320L << 20);
    Path dir;
    Path hashFile;

    @BeforeEach
    void freshDir() throws IOException {
        dir = Files.createTempDirectory(fs.root(), getClass().getSimpleName());
        hashFile = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "hash").resolve("hashes.mv");
    }

    @AfterEach
    void clean() throws Exception {
        LoopFileSystem.run("rm", "-rf", dir.toString(), hashFile.getParent().toString());
    }
}
