package compart.xenhost;

import compart.errors.CompartException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Compart's test qrexec agent for the guests ({@code qrexec/qrexec-agent.c}), compiled on the host with gcc
 * against Debian's static libxenvchan (libxen-dev) so that the busybox guest needs no shared libraries, and
 * staged with its init script and test services in {@code guest/qrexec/} of the share. The in-dom0 test that
 * uses it ({@code QrexecIT}) appends them, with dom0's Xen device modules, to the guest initramfs.
 *
 * <p>When gcc or the static libraries are missing the directory holds only {@code build.log}; that test then skips
 * and names the log. The other tests never depend on the agent.
 */
public final class GuestAgent {
    /** Directory under the share's guest directory. */
    public static final String DIR = "qrexec";
    static final List<String> FILES = List.of("qrexec-init.sh", "qube-init.sh", "test.Echo");

    private GuestAgent() {
    }

    /** Compiles the agent into {@code dir} and copies the init script and services beside it. */
    public static void stage(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path source = dir.resolve("qrexec-agent.c");
        Files.write(source, ImageSpec.resource(DIR + "/qrexec-agent.c"));
        for (String name : FILES) {
            Path file = dir.resolve(name);
            Files.write(file, ImageSpec.resource(DIR + "/" + name));
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        try {
            new HostCommand(List.of("gcc", "-static", "-O2", "-Wall", "-o", dir.resolve("qrexec-agent").toString(),
                    source.toString(), "-lxenvchan", "-lxengnttab", "-lxenevtchn", "-lxenstore", "-lxentoolcore",
                    "-lxentoollog", "-lpthread"), Map.of(), dir.resolve("build.log"), Duration.ofMinutes(3)).run();
        } catch (CompartException e) {
            // staged without the binary: QrexecIT skips and points at build.log
        }
    }
}
