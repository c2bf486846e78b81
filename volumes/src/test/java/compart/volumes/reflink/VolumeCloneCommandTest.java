package compart.volumes.reflink;

import static org.assertj.core.api.Assertions.assertThat;

import compart.xl.linux.Extent;
import compart.xl.linux.LinuxFile;
import compart.xl.testing.LoopFileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** compart-volume-clone: its picocli-free start for two plain paths, and a real clone on loop-mounted XFS. */
class VolumeCloneCommandTest {

    @Property(tries = 200)
    void plainStart_readsTwoPathsAsPicocliDoes(@ForAll @StringLength(min = 1, max = 12) String a,
                                               @ForAll @StringLength(min = 1, max = 12) String b) {
        String[] args = {a, b};
        VolumeCloneCommand plain = VolumeCloneCommand.plain(args);
        if (plain == null) {
            return; // left to picocli: an option, an @file or a path Java rejects
        }
        VolumeCloneCommand parsed = new VolumeCloneCommand();
        new CommandLine(parsed).parseArgs(args);
        assertThat(plain.source).isEqualTo(parsed.source);
        assertThat(plain.destination).isEqualTo(parsed.destination);
    }

    @Test
    void optionsFilesAndOtherArities_areLeftToPicocli() {
        for (String[][] args : new String[][][] {{{"--help"}}, {{"-h", "x"}}, {{"a", "--version"}}, {{"@args", "b"}},
                {{"a"}}, {{"a", "b", "c"}}, {{"a", ""}}, {{"--", "b"}}}) {
            assertThat(VolumeCloneCommand.plain(args[0])).as(String.join(" ", args[0])).isNull();
        }
        assertThat(VolumeCloneCommand.plain(new String[] {"a.img", "b.img"})).isNotNull();
    }

    @Test
    void clone_sharesEveryBlockOfTheImage_andRefusesAnExistingDestination() throws Exception {
        try (LoopFileSystem fs = LoopFileSystem.mount("xfs", 320L << 20)) {
            Path src = fs.root().resolve("src.img");
            byte[] data = new byte[8 << 20];
            new Random(7).nextBytes(data);
            Files.write(src, data);
            Path dst = fs.root().resolve("dst.img");

            VolumeCloneCommand c = VolumeCloneCommand.plain(new String[] {src.toString(), dst.toString()});
            assertThat(c.call()).isZero();
            assertThat(Files.readAllBytes(dst)).isEqualTo(data);
            try (LinuxFile f = LinuxFile.open(dst, LinuxFile.Mode.READ)) {
                assertThat(f.extents(0, Long.MAX_VALUE, true)).isNotEmpty().allMatch(Extent::shared);
            }
            assertThat(VolumeCloneCommand.plain(new String[] {src.toString(), dst.toString()}).call()).isEqualTo(1);
        }
    }
}
