package compart.xl.foreign;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Test support for the {@code @Tag("xen")} tests, which run only inside a real Xen dom0 (the QEMU Xen host of
 * integration-tests) and skip elsewhere with the reason.
 */
public final class XenHost {
    private XenHost() {
    }

    /** Skips the test unless this is a Xen dom0 we may drive (privcmd present, running as root). */
    public static void assumeDom0() {
        boolean privcmd = Files.exists(Path.of("/dev/xen/privcmd")) || Files.exists(Path.of("/proc/xen/privcmd"));
        assumeTrue(privcmd, "not a Xen dom0 (no /dev/xen/privcmd): run this test inside the QEMU Xen host "
                + "(integration-tests) or a real dom0");
        assumeTrue("root".equals(System.getProperty("user.name")), "Xen tests must run as root in dom0");
    }

    /** @return the path given by system property {@code name}, when set and the file exists */
    public static Optional<Path> existingFile(String name) {
        String value = System.getProperty(name, "").strip();
        if (value.isEmpty()) {
            return Optional.empty();
        }
        Path path = Path.of(value);
        return Files.isRegularFile(path) ? Optional.of(path) : Optional.empty();
    }

    /** Skips the test unless system property {@code name} names an existing file; returns it. */
    public static Path requireFile(String name, String what) {
        return existingFile(name).orElseGet(() -> {
            assumeTrue(false, "set -D" + name + "=<path of " + what + "> (the file must exist in dom0)");
            throw new AssertionError("unreachable");
        });
    }

    /** Polls {@code condition} every 100 ms until it holds or {@code timeout} passes; returns whether it held. */
    public static boolean await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(100);
        }
        return condition.getAsBoolean();
    }
}
