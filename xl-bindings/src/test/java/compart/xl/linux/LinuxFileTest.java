package compart.xl.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.xl.testing.LoopFileSystem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The block-sharing ioctls on real loop-mounted filesystems (XFS with reflink, ext4, tmpfs). */
class LinuxFileTest {
    private static final int MIB = 1 << 20;
    @RegisterExtension
    static final LoopFileSystem.PerClass xfs = LoopFileSystem.perClass("xfs", 320L * MIB);

    private static Path randomFile(Path dir, String name, int bytes, long seed) throws IOException {
        byte[] data = new byte[bytes];
        new Random(seed).nextBytes(data);
        Path p = dir.resolve(name);
        Files.write(p, data);
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ_WRITE)) {
            f.fsync();
        }
        return p;
    }

    private static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    private static List<Extent> extents(Path p) {
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ)) {
            return f.extents(0, Long.MAX_VALUE, true);
        }
    }

    @Test
    void cloneFile_onXfsWithReflink_sharesEveryExtentWithTheSource() throws Exception {
        Path a = randomFile(xfs.root(), "clone-src", 4 * MIB, 1);
        Path b = xfs.root().resolve("clone-dst");
        assertThat(extents(a)).noneMatch(Extent::shared);

        LinuxFile.cloneFile(a, b);

        assertThat(sha256(b)).isEqualTo(sha256(a));
        List<Extent> ea = extents(a);
        List<Extent> eb = extents(b);
        assertThat(eb).isNotEmpty().allMatch(Extent::shared);
        assertThat(ea).allMatch(Extent::shared);
        assertThat(eb.stream().mapToLong(Extent::length).sum()).isEqualTo(4L * MIB);
        assertThat(eb.stream().map(Extent::physical).toList()).isEqualTo(ea.stream().map(Extent::physical).toList());
        assertThat(eb.getLast().last()).isTrue();
    }

    @Test
    void cloneRangeFrom_sharesOnlyThatRange() throws Exception {
        Path a = randomFile(xfs.root(), "range-src", 2 * MIB, 2);
        Path b = randomFile(xfs.root(), "range-dst", 2 * MIB, 3);
        try (LinuxFile src = LinuxFile.open(a, LinuxFile.Mode.READ);
             LinuxFile dst = LinuxFile.open(b, LinuxFile.Mode.READ_WRITE)) {
            dst.cloneRangeFrom(src, MIB, MIB, 0);
        }
        byte[] da = Files.readAllBytes(a);
        byte[] db = Files.readAllBytes(b);
        assertThat(java.util.Arrays.copyOfRange(db, 0, MIB)).isEqualTo(java.util.Arrays.copyOfRange(da, MIB, 2 * MIB));
        List<Extent> eb = extents(b);
        assertThat(eb.stream().filter(Extent::shared).mapToLong(Extent::length).sum()).isEqualTo(MIB);
        assertThat(eb.stream().filter(e -> e.logical() >= MIB)).noneMatch(Extent::shared);
    }

    @Test
    void dedupeTo_equalRanges_shareBlocksAndKeepEveryByte() throws Exception {
        Path a = randomFile(xfs.root(), "dedupe-a", 2 * MIB, 4);
        Path b = randomFile(xfs.root(), "dedupe-b", 2 * MIB, 4); // same bytes, written separately (not copied:
        // the JDK's Files.copy uses copy_file_range, which XFS answers with a reflink)
        String before = sha256(b);
        assertThat(extents(b)).noneMatch(Extent::shared);

        List<DedupeOutcome> out;
        try (LinuxFile src = LinuxFile.open(a, LinuxFile.Mode.READ);
             LinuxFile dst = LinuxFile.open(b, LinuxFile.Mode.READ_WRITE)) {
            out = src.dedupeTo(0, 2 * MIB, List.of(new DedupeTarget(dst, 0)));
        }

        assertThat(out).containsExactly(new DedupeOutcome(DedupeOutcome.Status.SAME, 2L * MIB, 0));
        assertThat(sha256(b)).isEqualTo(before).isEqualTo(sha256(a));
        assertThat(extents(b)).allMatch(Extent::shared);
        assertThat(extents(b).getFirst().physical()).isEqualTo(extents(a).getFirst().physical());
    }

    @Test
    void dedupeTo_differentRanges_reportsDiffersAndChangesNothing() throws Exception {
        Path a = randomFile(xfs.root(), "differs-a", MIB, 5);
        Path b = randomFile(xfs.root(), "differs-b", MIB, 6);
        String before = sha256(b);
        try (LinuxFile src = LinuxFile.open(a, LinuxFile.Mode.READ);
             LinuxFile dst = LinuxFile.open(b, LinuxFile.Mode.READ_WRITE)) {
            assertThat(src.dedupeTo(0, MIB, List.of(new DedupeTarget(dst, 0))))
                    .containsExactly(new DedupeOutcome(DedupeOutcome.Status.DIFFERS, 0, 0));
        }
        assertThat(sha256(b)).isEqualTo(before);
        assertThat(extents(b)).noneMatch(Extent::shared);
    }

    @Test
    void extents_ofSparseFile_reportOnlyWrittenRanges() throws Exception {
        Path p = xfs.root().resolve("sparse");
        try (var ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[65536]).put(0, (byte) 1), 8L * MIB);
        }
        List<Extent> e = extents(p);
        assertThat(e).hasSize(1);
        assertThat(e.getFirst().logical()).isEqualTo(8L * MIB);
        assertThat(e.getFirst().length()).isEqualTo(65536);
    }

    @Test
    void allocate_reservesUnwrittenBlocks() throws Exception {
        Path p = xfs.root().resolve("allocated");
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.CREATE_NEW)) {
            f.allocate(0, MIB);
            assertThat(f.extents()).isNotEmpty().allMatch(Extent::unwritten);
        }
        assertThat(Files.size(p)).isEqualTo(MIB);
    }

    @Test
    void fileSystem_ofXfsMount_reportsXfsAndItsSize() {
        FileSystemStats s = LinuxFile.fileSystem(xfs.root());
        assertThat(s.typeName()).isEqualTo("xfs");
        assertThat(s.totalBytes()).isBetween(200L * MIB, 320L * MIB);
        assertThat(s.freeBytes()).isPositive().isLessThanOrEqualTo(s.totalBytes());
        try (LinuxFile d = LinuxFile.open(xfs.root(), LinuxFile.Mode.READ)) {
            assertThat(d.fileSystem()).isEqualTo(s);
        }
    }

    @Test
    void open_missingFile_isNotFound_andCreateNewOfExistingFile_isAlreadyExists() throws Exception {
        assertThatThrownBy(() -> LinuxFile.open(xfs.root().resolve("missing"), LinuxFile.Mode.READ))
                .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND))
                .hasMessageContaining("ENOENT");
        Path p = randomFile(xfs.root(), "exists", 10, 7);
        assertThatThrownBy(() -> LinuxFile.open(p, LinuxFile.Mode.CREATE_NEW))
                .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS));
        LinuxFile.fsyncDirectory(xfs.root());
    }

    @Test
    void cloneFile_onExt4_failsWithStorageErrorNamingTheFilesystem_andLeavesNoDestination() throws Exception {
        try (LoopFileSystem ext4 = LoopFileSystem.mount("ext4", 64L * MIB)) {
            assertThatCloneOfANewFileFails(ext4, 8)
                    .hasMessageContaining("FICLONE")
                    .hasMessageContaining("(ext4) does not support reflink")
                    .hasMessageContaining("reflink=1");
            assertThat(ext4.root().resolve("b")).doesNotExist();
        }
    }

    @Test
    void cloneFile_onTmpfs_failsWithStorageError() throws Exception {
        try (LoopFileSystem tmpfs = LoopFileSystem.mount("tmpfs", 16L * MIB)) {
            assertThatCloneOfANewFileFails(tmpfs, 9)
                    .hasMessageContaining("FICLONE")
                    .hasMessageContaining("tmpfs");
        }
    }

    @Test
    void cloneFile_onXfsWithoutReflink_failsWithStorageError() throws Exception {
        try (LoopFileSystem plain = LoopFileSystem.mount("xfs-noreflink", 320L * MIB)) {
            assertThatCloneOfANewFileFails(plain, 10).hasMessageContaining("(xfs) does not support reflink");
        }
    }

    /** Writes a random file {@code a} of 1 MiB on {@code fs} and asserts that cloning it to {@code b} fails as STORAGE. */
    private static AbstractThrowableAssert<?, ? extends Throwable> assertThatCloneOfANewFileFails(LoopFileSystem fs,
                                                                                                long seed)
            throws IOException {
        Path a = randomFile(fs.root(), "a", MIB, seed);
        return assertThatThrownBy(() -> LinuxFile.cloneFile(a, fs.root().resolve("b")))
                .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE));
    }
}
