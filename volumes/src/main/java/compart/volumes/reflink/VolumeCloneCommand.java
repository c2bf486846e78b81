package compart.volumes.reflink;

import compart.errors.CompartException;
import compart.xl.linux.LinuxFile;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code compart-volume-clone SRC DST}: an O(1) reflink copy of an image file, made durable. */
@Command(name = "compart-volume-clone", mixinStandardHelpOptions = true, version = "compart-volume-clone 0.1",
        description = {"Clones image file SRC to the new file DST on the same filesystem with FICLONE: every block is",
                "shared, so the cost does not grow with the size. DST must not exist; it is fsynced with its directory."})
public final class VolumeCloneCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SRC", description = "the image to clone")
    Path source;

    @Parameters(index = "1", paramLabel = "DST", description = "the new image (must not exist)")
    Path destination;

    public static void main(String[] args) {
        VolumeCloneCommand plain = plain(args);
        System.exit(plain != null ? plain.call() : new CommandLine(new VolumeCloneCommand()).execute(args));
    }

    /**
     * The command for the usual call, two plain paths, without picocli: building picocli's model of the command
     * is most of this command's start-up (about 60 ms of its 140 ms). Anything else (an option, an {@code @file},
     * a path picocli would reject) goes to picocli, which alone prints help and errors.
     *
     * @return the command with its two paths set, or null to let picocli parse {@code args}
     */
    static VolumeCloneCommand plain(String[] args) {
        if (args.length != 2) {
            return null;
        }
        for (String a : args) {
            if (a.isEmpty() || a.startsWith("-") || a.startsWith("@")) {
                return null;
            }
        }
        VolumeCloneCommand c = new VolumeCloneCommand();
        try {
            c.source = Path.of(args[0]);
            c.destination = Path.of(args[1]);
        } catch (InvalidPathException e) {
            return null;
        }
        return c;
    }

    @Override
    public Integer call() {
        try {
            Path dst = destination.toAbsolutePath();
            LinuxFile.cloneFile(source, dst);
            try (LinuxFile f = LinuxFile.open(dst, LinuxFile.Mode.READ_WRITE)) {
                f.fsync();
            }
            LinuxFile.fsyncDirectory(dst.getParent());
            return 0;
        } catch (CompartException e) {
            System.err.println("compart-volume-clone: " + e.getMessage());
            return 1;
        }
    }
}
