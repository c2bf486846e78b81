package compart.xenhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestInitramfsTest {

    /** A root filesystem with the files the guest takes from dom0 (contents are stand-ins: only copied). */
    private static Path rootfs(Path dir) throws IOException {
        Path kernel = dir.resolve("lib/modules/6.1.0-test-amd64/kernel");
        Files.createDirectories(dir.resolve("bin"));
        Files.writeString(dir.resolve("bin/busybox"), "BUSYBOX");
        for (String module : GuestInitramfs.FRONTEND_MODULES) {
            Files.createDirectories(kernel.resolve(module).getParent());
            Files.writeString(kernel.resolve(module), module);
        }
        return dir;
    }

    @Test
    void initramfs_holdsBusyboxTheFrontendsConsoleAndTheGuestInit(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("initrd.gz");

        GuestInitramfs.fromRootfs(rootfs(dir.resolve("rootfs")), "6.1.0-test-amd64").writeTo(target);

        List<NewcReader.Entry> entries;
        try (var in = new GZIPInputStream(Files.newInputStream(target))) {
            entries = NewcReader.read(in.readAllBytes());
        }
        assertThat(entries).extracting(NewcReader.Entry::name).contains("init", "bin/busybox", "bin/sh",
                "dev/console", "dev/null", "lib/modules/xen-blkfront.ko", "lib/modules/xen-netfront.ko");
        var init = entries.stream().filter(e -> e.name().equals("init")).findFirst().orElseThrow();
        assertThat(init.permissions()).isEqualTo(0755);
        assertThat(new String(init.data(), StandardCharsets.UTF_8))
                .isEqualTo(new String(ImageSpec.resource(ImageSpec.GUEST_INIT), StandardCharsets.UTF_8))
                .startsWith("#!/bin/sh").contains("COMPART-GUEST: up type=").contains("poweroff -f");
        var busybox = entries.stream().filter(e -> e.name().equals("bin/busybox")).findFirst().orElseThrow();
        assertThat(new String(busybox.data(), StandardCharsets.US_ASCII)).isEqualTo("BUSYBOX");
    }

    @Test
    void missingFrontendModule_isReported_withItsPath(@TempDir Path dir) throws Exception {
        Path rootfs = rootfs(dir.resolve("rootfs"));
        Files.delete(rootfs.resolve("lib/modules/6.1.0-test-amd64/kernel/drivers/net/xen-netfront.ko"));

        assertThatThrownBy(() -> GuestInitramfs.fromRootfs(rootfs, "6.1.0-test-amd64").writeTo(dir.resolve("x.gz")))
                .isInstanceOf(IOException.class).hasMessageContaining("xen-netfront.ko");
    }
}
