package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What an in-dom0 test ({@code *IT}) has at hand: {@code xl}, the test guest's kernel and initramfs, and the
 * share's {@code out} directory (copied back to the host). The harness (compart.xenhost.PayloadScript) passes
 * the paths as system properties.
 */
final class Dom0Host {
    private Dom0Host() {}

    /** Output of a finished program. */
    record CommandResult(int exitCode, String output) {
        CommandResult requireSuccess(List<String> argv) {
            assertThat(exitCode).as("exit code of %s; output:%n%s", argv, output).isZero();
            return this;
        }
    }

    static Path guestKernel() {
        return Path.of(property("compart.xenhost.guest.kernel"));
    }

    static Path guestInitrd() {
        return Path.of(property("compart.xenhost.guest.initrd"));
    }

    /** Files a test wants to keep for a post-mortem: copied back to target/xenhost/share/out. */
    static Path out() {
        return Path.of(property("compart.xenhost.out"));
    }

    /** Runs {@code xl ARGS} and requires exit code 0. */
    static String xl(String... args) {
        var argv = new java.util.ArrayList<String>(List.of("xl"));
        argv.addAll(List.of(args));
        return run(argv, Duration.ofMinutes(5)).requireSuccess(argv).output();
    }

    /** Runs a program (stderr merged into stdout) with a deadline. */
    static CommandResult run(List<String> argv, Duration timeout) {
        try {
            Process process = new ProcessBuilder(argv).redirectErrorStream(true).start();
            process.getOutputStream().close();
            var output = new java.io.ByteArrayOutputStream();
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    process.getInputStream().transferTo(output);
                } catch (IOException e) {
                    // the process went away; what was read is kept
                }
            });
            if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError(argv + " did not finish within " + timeout);
            }
            // a child the command left behind may hold the pipe open: what was read by then is the output
            reader.join(TimeUnit.SECONDS.toMillis(30));
            return new CommandResult(process.exitValue(), output.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("cannot run " + argv + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + argv, e);
        }
    }

    /** @return the Compart .deb that packaging's -Pdist build staged in the share, if any */
    static java.util.Optional<Path> stagedPackage() {
        Path dist = Path.of(property("compart.xenhost.share"), "dist");
        if (!Files.isDirectory(dist)) {
            return java.util.Optional.empty();
        }
        try (var files = Files.list(dist)) {
            return files.filter(p -> p.toString().endsWith(".deb")).findFirst();
        } catch (IOException e) {
            throw new AssertionError("cannot list " + dist, e);
        }
    }

    /**
     * Puts the package's disk hotplug script where the package installs it (taken from the staged .deb), so that
     * a compartd run in the test's JVM attaches disks with it, as the installed one does; without a staged package
     * it attaches them with Xen's {@code block} script.
     *
     * @return whether the script is installed
     */
    static boolean installPackagedBlockScript() {
        var deb = stagedPackage();
        if (deb.isEmpty()) {
            return false;
        }
        var argv = List.of("sh", "-c", "dpkg-deb --fsys-tarfile '" + deb.get() + "' | tar -x -C / "
                + "./usr/lib/compart/xen/block-loop");
        run(argv, Duration.ofMinutes(2)).requireSuccess(argv);
        return true;
    }

    /**
     * Destroys every domain but dom0: what a test that ran compartd in its own JVM leaves when it ends, failed or
     * not (its qubes outlive the daemon, as Qubes' do), so that the next test of the lane has Xen's memory.
     *
     * @return the names destroyed
     */
    static List<String> destroyAllGuests() {
        var gone = new java.util.ArrayList<String>();
        for (String line : run(List.of("xl", "list"), Duration.ofMinutes(1)).output().lines().skip(1).toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 1 && f[1].matches("[1-9][0-9]*")) {
                run(List.of("xl", "destroy", f[1]), Duration.ofMinutes(2));
                gone.add(f[0]);
            }
        }
        if (!gone.isEmpty()) {
            System.out.println("COMPART-XENHOST: destroyed the domains left behind: " + String.join(", ", gone));
        }
        return gone;
    }

    /** True while a domain with that name exists. */
    static boolean domainExists(String name) {
        return run(List.of("xl", "domid", name), Duration.ofMinutes(1)).exitCode() == 0;
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            throw new AssertionError("cannot read " + file, e);
        }
    }

    private static String property(String name) {
        String value = System.getProperty(name);
        assertThat(value).as("system property %s (set by the harness's run.sh in dom0)", name).isNotBlank();
        return value;
    }
}
