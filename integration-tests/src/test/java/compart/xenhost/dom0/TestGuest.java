package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The harness's test guest (Debian kernel + busybox initramfs, see guest-init.sh) started with {@code xl create}
 * from a config file written here, and waited for on its console log.
 *
 * <p>Nested guests run on QEMU's emulated SVM; a rare triple fault makes Xen restart the guest (libxl's default
 * {@code on_reboot="restart"}), so a wait is for the marker, however many starts it takes, within the deadline.
 * {@link #close()} destroys the domain if it is still there.
 */
final class TestGuest implements AutoCloseable {
    /** Generous: PVH boots in 30-60 s and HVM in 80-150 s under nested TCG, and CI machines vary. */
    static final Duration PVH_BOOT = Duration.ofMinutes(6);
    static final Duration HVM_BOOT = Duration.ofMinutes(12);

    private final String name;
    private final Path config;
    private final Path console;

    private TestGuest(String name, Path config, Path console) {
        this.name = name;
        this.config = config;
        this.console = console;
    }

    /** A PVH guest: no device model; its PV console goes to xenconsoled's log. */
    static TestGuest pvh(String name, List<String> extraConfig) throws IOException {
        var lines = new ArrayList<>(List.of("type = \"pvh\"", "extra = \"console=hvc0 quiet\""));
        lines.addAll(extraConfig);
        return write(name, lines, Path.of("/var/log/xen/console/guest-" + name + ".log"));
    }

    /**
     * A PVH guest booting another initramfs with more kernel arguments (e.g. the qrexec test guest:
     * {@code rdinit=/qrexec-init}).
     */
    static TestGuest pvh(String name, Path ramdisk, String kernelArguments) throws IOException {
        return write(name, ramdisk, List.of("type = \"pvh\"", "extra = \"console=hvc0 quiet " + kernelArguments + "\""),
                Path.of("/var/log/xen/console/guest-" + name + ".log"));
    }

    /** A PVH guest booting {@code kernel} and {@code ramdisk} with these arguments and config lines (disks, vifs). */
    static TestGuest pvh(String name, Path kernel, Path ramdisk, String kernelArguments, List<String> extraConfig)
            throws IOException {
        var lines = new ArrayList<>(List.of("type = \"pvh\"", "extra = \"" + kernelArguments + "\""));
        lines.addAll(extraConfig);
        return write(name, kernel, ramdisk, lines, Path.of("/var/log/xen/console/guest-" + name + ".log"));
    }

    /** An HVM guest: qemu-xen device model, SeaBIOS, direct kernel boot; its serial port goes to a file. */
    static TestGuest hvm(String name) throws IOException {
        Path serial = Path.of("/var/log/xen/console/" + name + "-serial.log");
        return write(name, List.of("type = \"hvm\"", "extra = \"console=ttyS0 quiet\"",
                "serial = \"file:" + serial + "\"", "vga = \"none\"", "vnc = 0", "sdl = 0"), serial);
    }

    private static TestGuest write(String name, List<String> typeLines, Path console) throws IOException {
        return write(name, Dom0Host.guestInitrd(), typeLines, console);
    }

    private static TestGuest write(String name, Path ramdisk, List<String> typeLines, Path console)
            throws IOException {
        return write(name, Dom0Host.guestKernel(), ramdisk, typeLines, console);
    }

    private static TestGuest write(String name, Path kernel, Path ramdisk, List<String> typeLines, Path console)
            throws IOException {
        var lines = new ArrayList<>(List.of(
                "name = \"" + name + "\"",
                "kernel = \"" + kernel + "\"",
                "ramdisk = \"" + ramdisk + "\"",
                "memory = 256",
                "vcpus = 1",
                "on_poweroff = \"destroy\"",
                "on_crash = \"destroy\""));
        lines.addAll(typeLines);
        Path config = Files.createTempFile(name, ".cfg");
        Files.write(config, lines);
        Files.deleteIfExists(console);
        return new TestGuest(name, config, console);
    }

    String name() {
        return name;
    }

    /** {@code xl create}; returns when libxl has built and unpaused the domain. */
    TestGuest create() {
        Dom0Host.xl("create", config.toString());
        return this;
    }

    /** The console so far. */
    String console() {
        return Dom0Host.read(console);
    }

    /**
     * Waits until the console shows {@code marker}; fails with the console and {@code xl dmesg} if it does not
     * within {@code timeout}, or if the domain is gone for good without printing it.
     */
    String awaitConsole(String marker, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int goneFor = 0;
        while (System.nanoTime() < deadline) {
            if (console().contains(marker)) {
                return console();
            }
            goneFor = Dom0Host.domainExists(name) ? 0 : goneFor + 1;
            if (goneFor > 20) { // 10 s without the domain (and xenconsoled had time to flush): it is not coming back
                break;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("guest " + name + " did not print '" + marker + "' within " + timeout.toSeconds()
                + " s (domain " + (Dom0Host.domainExists(name) ? "still running" : "gone") + ").\n--- console ---\n"
                + console() + "\n--- xl dmesg (tail) ---\n" + tail(Dom0Host.run(List.of("xl", "dmesg"),
                Duration.ofMinutes(1)).output(), 30));
    }

    /** Waits until the domain no longer exists (after a power-off with on_poweroff="destroy"). */
    void awaitGone(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (Dom0Host.domainExists(name)) {
            assertThat(System.nanoTime()).as("domain %s still exists after %s", name, timeout).isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    @Override
    public void close() {
        if (Dom0Host.domainExists(name)) {
            Dom0Host.run(List.of("xl", "destroy", name), Duration.ofMinutes(2));
        }
        try {
            Files.createDirectories(Dom0Host.out().resolve("guests"));
            Files.writeString(Dom0Host.out().resolve("guests").resolve(name + ".log"), console());
            Files.deleteIfExists(config);
        } catch (IOException e) {
            // only diagnostics were lost
        }
    }

    private static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }
}
