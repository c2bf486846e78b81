package compart.volumes.reflink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.Pool;
import compart.volumes.PoolDriver;
import compart.volumes.PoolUsage;
import compart.volumes.Volume;
import compart.volumes.VolumeConfig;
import compart.xl.linux.Extent;
import compart.xl.linux.LinuxFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The pool contract for {@code file-reflink} with {@code setup_check=no} on a loop-mounted ext4, which cannot
 * reflink: every clone is a sparse copy. Every contract test applies (none of them needs shared blocks; the
 * block-sharing tests live in {@link ReflinkXfsPoolTest}), plus what is particular to the fallback: the warning,
 * holes kept, nothing shared, and capacity checks that count the copied bytes.
 */
class ReflinkFallbackExt4PoolTest extends ReflinkLoopPoolTest {
    @Override
    protected String fileSystemType() {
        return "ext4";
    }

    @Override
    protected long fileSystemSize() {
        return 256L * MIB;
    }

    @Override
    protected Map<String, String> poolOptions() {
        return Map.of("setup_check", "no");
    }

    private static List<Extent> extents(Path p) {
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ)) {
            return f.extents(0, Long.MAX_VALUE, true);
        }
    }

    private Volume committedTemplate(long size, long offset, byte[] data) throws Exception {
        Volume tpl = pool.volume("vm-templates/t/root", VolumeConfig.persistent("root", size));
        tpl.create();
        runWriting(tpl, offset, data);
        return tpl;
    }

    @Test
    void open_withoutReflink_warnsOnce_namingThePoolAndTheFallback() {
        // the module reads only slf4j; the test reads logback's appender too (before linking to its classes)
        for (String name : new String[] {"ch.qos.logback.classic", "ch.qos.logback.core"}) {
            ModuleLayer.boot().findModule(name).ifPresent(m -> ReflinkFallbackExt4PoolTest.class.getModule().addReads(m));
        }
        readsLogback();
    }

    private void readsLogback() {
        Logger log = (Logger) LoggerFactory.getLogger(ReflinkPool.class);
        ListAppender<ILoggingEvent> seen = new ListAppender<>();
        seen.start();
        log.addAppender(seen);
        try {
            Pool p = PoolDriver.openPool(config("warned", Map.of()));
            p.volume("appvms/a/private", VolumeConfig.persistent("private", SIZE)).create();
            assertThat(seen.list).hasSize(1);
            assertThat(seen.list.getFirst().getLevel()).isEqualTo(Level.WARN);
            assertThat(seen.list.getFirst().getFormattedMessage()).startsWith("pool warned: ")
                    .contains("(ext4) cannot make reflink copies").contains("falling back to plain copies");
        } finally {
            log.detachAppender(seen);
        }
    }

    @Test
    void open_withSetupCheckYes_isStillRefused() {
        assertThatThrownBy(() -> PoolDriver.openPool(config("checked", Map.of("setup_check", "yes"))))
                .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE))
                .hasMessageContaining("(ext4) cannot make reflink copies").hasMessageContaining("setup_check=no");
    }

    @Test
    void appVmRoot_start_copiesOnlyTheWrittenBlocks_andSharesNothing() throws Exception {
        long big = 64L * MIB;
        committedTemplate(big, 32L * MIB, pattern(MIB, 61));
        Volume root = pool.volume("appvms/a/root", VolumeConfig.snapshot("root", big, "vm-templates/t/root"));
        root.start();
        assertThat(root.size()).isEqualTo(big);
        assertThat(qubeReads(root, 32L * MIB, MIB)).isEqualTo(pattern(MIB, 61));
        assertThat(root.usage()).as("holes stay holes").isBetween((long) MIB, 2L * MIB);
        assertThat(extents(root.blockDevicePath())).isNotEmpty().noneMatch(Extent::shared);
        root.stop();
    }

    @Test
    void appVmRoot_keepsItsStartState_whileTheTemplateCommits_andIsThenOutdated() throws Exception {
        Volume tpl = committedTemplate(SIZE, 0, pattern(4096, 71));
        Volume root = pool.volume("appvms/a/root", VolumeConfig.snapshot("root", SIZE, "vm-templates/t/root"));
        root.start();
        assertThat(root.isOutdated()).isFalse();
        runWriting(tpl, 0, pattern(4096, 72));
        tpl.resize(2 * SIZE);
        assertThat(root.isOutdated()).isTrue();
        Path frozen = Path.of(pool.config().requiredOption("dir_path"), "appvms/a/root.img");
        assertThat(Files.readAllBytes(frozen)).startsWith(pattern(4096, 71));
        assertThat(qubeReads(root, 0, 4096)).isEqualTo(pattern(4096, 71));
        root.stop();
        root.start();
        assertThat(qubeReads(root, 0, 4096)).isEqualTo(pattern(4096, 72));
        root.stop();
    }

    @Test
    void capacityCheck_countsTheBytesACopyAllocates() throws Exception {
        Volume tpl = committedTemplate(SIZE, 0, pattern(4 * MIB, 81));
        PoolUsage u = pool.usage();
        try (AutoCloseable filler = occupy(u.free() - u.reserve() - 2L * MIB)) { // 2 MiB above the reserve
            for (Runnable op : new Runnable[] {tpl::start,
                    () -> pool.volume("appvms/a/root", VolumeConfig.snapshot("root", SIZE, "vm-templates/t/root")).start(),
                    () -> pool.volume("appvms/b/root", VolumeConfig.persistent("root", SIZE)).cloneFrom(tpl)}) {
                assertThatThrownBy(op::run).isInstanceOfSatisfying(CompartException.class,
                                e -> assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE))
                        .hasMessageContaining("is too full").hasMessageContaining("needs 4.0 MiB");
            }
            Volume empty = pool.volume("appvms/c/private", VolumeConfig.persistent("private", SIZE));
            empty.create();
            empty.start(); // an empty image copies nothing: it fits
            empty.stop();
        }
        assertThat(pool.volumeIds()).containsExactly("appvms/c/private", "vm-templates/t/root");
        tpl.start();
        assertThat(qubeReads(tpl, 0, 4 * MIB)).isEqualTo(pattern(4 * MIB, 81));
        tpl.stop();
    }
}
