package compart.xl.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import compart.xl.testing.LoopFileSystem;
import java.io.IOException;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Compiles a C probe with gcc against the real {@code <linux/fs.h>}, {@code <linux/fiemap.h>},
 * {@code <sys/statfs.h>} and {@code <fcntl.h>}, and checks every hand-written layout, offset and constant of
 * {@link LinuxNative} against what the compiler says.
 */
class LinuxLayoutProbeTest {
    private static final String PROBE = """
            #define _GNU_SOURCE
            #include <stdio.h>
            #include <stddef.h>
            #include <fcntl.h>
            #include <sys/ioctl.h>
            #include <sys/statfs.h>
            #include <linux/fs.h>
            #include <linux/fiemap.h>
            #define S(t) printf("sizeof.%s %zu\\n", #t, sizeof(struct t))
            #define O(t, f) printf("offsetof.%s.%s %zu\\n", #t, #f, offsetof(struct t, f))
            #define C(c) printf("const.%s %llu\\n", #c, (unsigned long long)(c))
            int main(void) {
                S(file_clone_range); O(file_clone_range, src_fd); O(file_clone_range, src_offset);
                O(file_clone_range, src_length); O(file_clone_range, dest_offset);
                S(file_dedupe_range); O(file_dedupe_range, src_offset); O(file_dedupe_range, src_length);
                O(file_dedupe_range, dest_count); O(file_dedupe_range, reserved1); O(file_dedupe_range, reserved2);
                S(file_dedupe_range_info); O(file_dedupe_range_info, dest_fd); O(file_dedupe_range_info, dest_offset);
                O(file_dedupe_range_info, bytes_deduped); O(file_dedupe_range_info, status);
                O(file_dedupe_range_info, reserved);
                S(fiemap); O(fiemap, fm_start); O(fiemap, fm_length); O(fiemap, fm_flags);
                O(fiemap, fm_mapped_extents); O(fiemap, fm_extent_count); O(fiemap, fm_reserved);
                S(fiemap_extent); O(fiemap_extent, fe_logical); O(fiemap_extent, fe_physical);
                O(fiemap_extent, fe_length); O(fiemap_extent, fe_reserved64); O(fiemap_extent, fe_flags);
                O(fiemap_extent, fe_reserved);
                S(statfs); O(statfs, f_type); O(statfs, f_bsize); O(statfs, f_blocks); O(statfs, f_bfree);
                O(statfs, f_bavail); O(statfs, f_files); O(statfs, f_ffree); O(statfs, f_fsid);
                O(statfs, f_namelen); O(statfs, f_frsize); O(statfs, f_flags); O(statfs, f_spare);
                C(FICLONE); C(FICLONERANGE); C(FIDEDUPERANGE); C(FS_IOC_FIEMAP);
                C(FIEMAP_FLAG_SYNC); C(FIEMAP_EXTENT_LAST); C(FIEMAP_EXTENT_UNKNOWN); C(FIEMAP_EXTENT_DELALLOC);
                C(FIEMAP_EXTENT_UNWRITTEN); C(FIEMAP_EXTENT_SHARED);
                C(FILE_DEDUPE_RANGE_SAME); C(FILE_DEDUPE_RANGE_DIFFERS);
                C(O_RDONLY); C(O_WRONLY); C(O_RDWR); C(O_CREAT); C(O_EXCL); C(O_TRUNC); C(O_DIRECTORY); C(O_CLOEXEC);
                return 0;
            }
            """;

    private static Map<String, Long> probe;

    @BeforeAll
    static void compileAndRunProbe() throws IOException, InterruptedException {
        String gcc = LoopFileSystem.resolve("gcc");
        assumeTrue(!gcc.equals("gcc") || LoopFileSystem.onPath("gcc"), "gcc is not installed (apt-get install gcc libc6-dev)");
        Path dir = Files.createDirectories(Path.of("target", "probe").toAbsolutePath());
        Path source = dir.resolve("linux_probe.c");
        Path binary = dir.resolve("linux_probe");
        Files.writeString(source, PROBE);
        LoopFileSystem.run(gcc, "-Wall", "-Werror", "-o", binary.toString(), source.toString());
        String out = LoopFileSystem.run(binary.toString());
        probe = new HashMap<>();
        for (String line : out.strip().split("\n")) {
            String[] kv = line.split(" ");
            probe.put(kv[0], Long.parseUnsignedLong(kv[1]));
        }
    }

    private static void assertLayout(StructLayout layout, String cName, String... fields) {
        assertThat(layout.byteSize()).as("sizeof(struct %s)", cName).isEqualTo(probe.get("sizeof." + cName));
        for (String f : fields) {
            assertThat(LinuxNative.offset(layout, f)).as("offsetof(struct %s, %s)", cName, f)
                    .isEqualTo(probe.get("offsetof." + cName + "." + f));
        }
    }

    @Test
    void fileCloneRange_matchesLinuxFsH() {
        assertLayout(LinuxNative.FILE_CLONE_RANGE, "file_clone_range", "src_fd", "src_offset", "src_length", "dest_offset");
    }

    @Test
    void fileDedupeRange_andItsInfo_matchLinuxFsH() {
        assertLayout(LinuxNative.FILE_DEDUPE_RANGE, "file_dedupe_range",
                "src_offset", "src_length", "dest_count", "reserved1", "reserved2");
        assertLayout(LinuxNative.FILE_DEDUPE_RANGE_INFO, "file_dedupe_range_info",
                "dest_fd", "dest_offset", "bytes_deduped", "status", "reserved");
    }

    @Test
    void fiemap_andFiemapExtent_matchLinuxFiemapH() {
        assertLayout(LinuxNative.FIEMAP, "fiemap",
                "fm_start", "fm_length", "fm_flags", "fm_mapped_extents", "fm_extent_count", "fm_reserved");
        assertLayout(LinuxNative.FIEMAP_EXTENT, "fiemap_extent",
                "fe_logical", "fe_physical", "fe_length", "fe_reserved64", "fe_flags", "fe_reserved");
    }

    @Test
    void statfs_matchesGlibcSysStatfsH() {
        assertLayout(LinuxNative.STATFS, "statfs", "f_type", "f_bsize", "f_blocks", "f_bfree", "f_bavail",
                "f_files", "f_ffree", "f_fsid", "f_namelen", "f_frsize", "f_flags", "f_spare");
    }

    @Test
    void ioctlNumbersAndFlags_matchTheHeaders() {
        Map<String, Long> expected = Map.ofEntries(
                Map.entry("FICLONE", LinuxNative.FICLONE),
                Map.entry("FICLONERANGE", LinuxNative.FICLONERANGE),
                Map.entry("FIDEDUPERANGE", LinuxNative.FIDEDUPERANGE),
                Map.entry("FS_IOC_FIEMAP", LinuxNative.FS_IOC_FIEMAP),
                Map.entry("FIEMAP_FLAG_SYNC", (long) LinuxNative.FIEMAP_FLAG_SYNC),
                Map.entry("FIEMAP_EXTENT_LAST", (long) LinuxNative.FIEMAP_EXTENT_LAST),
                Map.entry("FIEMAP_EXTENT_UNKNOWN", (long) LinuxNative.FIEMAP_EXTENT_UNKNOWN),
                Map.entry("FIEMAP_EXTENT_DELALLOC", (long) LinuxNative.FIEMAP_EXTENT_DELALLOC),
                Map.entry("FIEMAP_EXTENT_UNWRITTEN", (long) LinuxNative.FIEMAP_EXTENT_UNWRITTEN),
                Map.entry("FIEMAP_EXTENT_SHARED", (long) LinuxNative.FIEMAP_EXTENT_SHARED),
                Map.entry("FILE_DEDUPE_RANGE_SAME", (long) LinuxNative.FILE_DEDUPE_RANGE_SAME),
                Map.entry("FILE_DEDUPE_RANGE_DIFFERS", (long) LinuxNative.FILE_DEDUPE_RANGE_DIFFERS),
                Map.entry("O_RDONLY", (long) LinuxNative.O_RDONLY),
                Map.entry("O_WRONLY", (long) LinuxNative.O_WRONLY),
                Map.entry("O_RDWR", (long) LinuxNative.O_RDWR),
                Map.entry("O_CREAT", (long) LinuxNative.O_CREAT),
                Map.entry("O_EXCL", (long) LinuxNative.O_EXCL),
                Map.entry("O_TRUNC", (long) LinuxNative.O_TRUNC),
                Map.entry("O_DIRECTORY", (long) LinuxNative.O_DIRECTORY),
                Map.entry("O_CLOEXEC", (long) LinuxNative.O_CLOEXEC));
        expected.forEach((name, value) ->
                assertThat(value).as(name).isEqualTo(probe.get("const." + name)));
    }
}
