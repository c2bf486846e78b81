package compart.xenhost.dom0;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * The Debian 12 guest template with Qubes' guest software that the harness built on the host
 * (compart.xenhost.GuestTemplateBuilder) and staged in the share's {@code guest/debian/}: dom0's kernel, our
 * initramfs, {@code modules.img}, the template's {@code root.img}. When the harness could not build it (no Qubes
 * guest sources), the directory holds {@code SKIPPED} with the reason, and the tests that need it skip with it.
 */
final class DebianTemplateFiles {
    /** Kernel arguments as compart gives a Linux qube (toolstack-core's DomainSpecs), plus systemd's status. */
    static final String KERNEL_ARGUMENTS = "root=/dev/mapper/dmroot ro nomodeset console=hvc0 rd_NO_PLYMOUTH "
            + "rd.plymouth.enable=0 plymouth.enable=0 xen_privcmd.unrestricted systemd.show_status=1";
    /** What the template's report unit (compart-qube-report.service) prints once systemd has started. */
    static final String UP = "COMPART-QUBE: up systemd=";

    private DebianTemplateFiles() {
    }

    /** The staged template; skips the calling test (naming the reason) when the harness staged none. */
    static Path require() throws IOException {
        Path dir = Path.of(System.getProperty("compart.xenhost.share"), "guest", "debian");
        Path skipped = dir.resolve("SKIPPED");
        if (Files.exists(skipped)) {
            String reason = "*** Debian guest template tests SKIPPED: " + Files.readString(skipped).strip();
            System.out.println(reason);
            Assumptions.abort(reason);
        }
        Assumptions.assumeTrue(Files.isRegularFile(dir.resolve("root.img")),
                "*** Debian guest template tests SKIPPED: the harness staged no " + dir.resolve("root.img"));
        return dir;
    }

    static Path kernel(Path dir) {
        return dir.resolve("vmlinuz");
    }

    static Path initramfs(Path dir) {
        return dir.resolve("initramfs");
    }

    /**
     * Copies {@code name} out of the share into {@code target} (sparse): the share's files are hard links to the
     * host's cache, and a guest must never write to them.
     */
    static Path copy(Path dir, String name, Path target) {
        Dom0Host.run(List.of("cp", "--sparse=always", dir.resolve(name).toString(), target.toString()),
                Duration.ofMinutes(5)).requireSuccess(List.of("cp", name));
        return target;
    }

    /** A sparse, empty file of {@code mib} MiB (a fresh private or volatile volume). */
    static Path emptyVolume(Path file, long mib) throws IOException {
        Files.deleteIfExists(file);
        try (var f = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(mib << 20);
        }
        return file;
    }
}
