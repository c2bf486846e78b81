package compart.xl.libxl;

import compart.xl.foreign.Gcc;
import compart.xl.foreign.XenHost;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tukaani.xz.SingleXZInputStream;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Measures create-to-running (create paused + unpause, no wait for the guest OS) through Compart against
 * {@code xl create} of the same guest (same kernel, memory, disk and NIC) on the same boot. Rounds alternate which
 * tool goes first, so page-cache warm-up favours neither; prints {@code TIMING <kind> compart=[..] xl=[..]
 * median ratio=R}. Needs {@code xl} and {@code compart.test.kernel}; PVH uses {@code compart.test.disk} and the
 * bridge when present. Asserts only that both succeed: the numbers are the output (nested TCG is noisy).
 */
@Tag("xen")
class CreateTimingXenTest {
    private static final int ROUNDS = Integer.getInteger("compart.test.timingRounds", 3);

    @Test
    void pvh_createToRunning_compartVersusXl() throws Exception {
        XenHost.assumeDom0();
        assumeTrue(Gcc.onPath("xl"), "xl is not installed in dom0");
        Path kernel = XenHost.requireFile("compart.test.kernel", "the guest kernel");
        DomainConfig config = DomainConfigFixtures.pvhTestGuest("compart-timing-pvh", kernel,
                XenHost.existingFile("compart.test.initrd"), 256 * 1024);
        Optional<Path> disk = XenHost.existingFile("compart.test.disk");
        if (disk.isPresent()) {
            config = config.withDisks(List.of(DiskConfig.rawPhy(disk.get(), "xvda")));
        }
        if (Files.exists(Path.of("/sys/class/net/xenbr0"))) {
            config = config.withNics(List.of(NicConfig.bridged(0, "00:16:3e:c0:ff:02", "xenbr0")));
        }
        compare("pvh" + (config.disks().isEmpty() ? "" : "+disk") + (config.nics().isEmpty() ? "" : "+vif"), config);
    }

    @Test
    void hvm_createToRunning_compartVersusXl() throws Exception {
        XenHost.assumeDom0();
        assumeTrue(Gcc.onPath("xl"), "xl is not installed in dom0");
        assumeTrue(Files.isExecutable(Path.of("/usr/libexec/xen-qemu-system-i386")), "no qemu-xen device model");
        Path kernel = XenHost.requireFile("compart.test.kernel", "the guest kernel");
        compare("hvm", DomainConfigFixtures.hvmTestGuest("compart-timing-hvm", kernel, XenHost.existingFile("compart.test.initrd"),
                Path.of("/var/log/xen/compart-timing-hvm-serial.log")));
    }

    /**
     * What compartd's kernel cache (toolstack-core's UncompressedKernels) saves at each PVH start: libxl given the
     * bzImage unpacks its xz payload in the calling process; given the ELF image it loads it directly. Both through
     * our libxl binding, rounds alternating; prints {@code TIMING pvh-kernel bzImage=[..] elf=[..] ...}.
     */
    @Test
    void pvh_createToRunning_bzImageVersusItsUnpackedElf() throws Exception {
        XenHost.assumeDom0();
        Path kernel = XenHost.requireFile("compart.test.kernel", "the guest kernel");
        Path elf = Files.createTempFile("compart-timing-", ".elf");
        try {
            unpackXzBzImage(kernel, elf);
            var initrd = XenHost.existingFile("compart.test.initrd");
            DomainConfig packed = DomainConfigFixtures.pvhTestGuest("compart-timing-bz", kernel, initrd, 256 * 1024);
            DomainConfig unpacked = DomainConfigFixtures.pvhTestGuest("compart-timing-elf", elf, initrd, 256 * 1024);
            List<Long> bz = new ArrayList<>();
            List<Long> direct = new ArrayList<>();
            try (LibxlContext ctx = LibxlContext.open()) {
                for (int round = 0; round < ROUNDS; round++) {
                    if (round % 2 == 0) {
                        bz.add(timeCompart(ctx, packed));
                        direct.add(timeCompart(ctx, unpacked));
                    } else {
                        direct.add(timeCompart(ctx, unpacked));
                        bz.add(timeCompart(ctx, packed));
                    }
                }
            }
            System.out.printf("TIMING pvh-kernel bzImage=%s elf=%s median bzImage=%dms elf=%dms ratio=%.2f (%d MiB "
                    + "unpacked)%n", bz, direct, median(bz), median(direct), median(direct) / (double) median(bz),
                    Files.size(elf) >> 20);
            assertThat(bz).allMatch(ms -> ms > 0);
            assertThat(direct).allMatch(ms -> ms > 0);
        } finally {
            Files.deleteIfExists(elf);
        }
    }

    /** Writes the ELF image inside an xz-compressed bzImage (its header's payload fields, then one xz stream). */
    private static void unpackXzBzImage(Path kernel, Path elf) throws Exception {
        ByteBuffer header = ByteBuffer.wrap(Files.readAllBytes(kernel)).order(ByteOrder.LITTLE_ENDIAN);
        int sects = header.get(0x1f1) & 0xff;
        int offset = ((sects == 0 ? 4 : sects) + 1) * 512 + header.getInt(0x248);
        int length = header.getInt(0x24c);
        try (var in = new SingleXZInputStream(new ByteArrayInputStream(header.array(), offset, length));
             var out = Files.newOutputStream(elf)) {
            in.transferTo(out);
        }
        try (var out = Files.newInputStream(elf)) {
            assertThat(out.readNBytes(4)).as("an ELF image").containsExactly(0x7f, 'E', 'L', 'F');
        }
    }

    private static void compare(String kind, DomainConfig config) throws Exception {
        List<Long> ours = new ArrayList<>();
        List<Long> xl = new ArrayList<>();
        try (LibxlContext ctx = LibxlContext.open()) {
            for (int round = 0; round < ROUNDS; round++) {
                if (round % 2 == 0) {
                    xl.add(GuestRun.timeXlCreate(config));
                    ours.add(timeCompart(ctx, config));
                } else {
                    ours.add(timeCompart(ctx, config));
                    xl.add(GuestRun.timeXlCreate(config));
                }
            }
        }
        double ratio = median(ours) / (double) median(xl);
        System.out.printf("TIMING %s compart=%s xl=%s median compart=%dms xl=%dms ratio=%.2f%n", kind, ours, xl,
                median(ours), median(xl), ratio);
        assertThat(ours).allMatch(ms -> ms > 0);
        assertThat(xl).allMatch(ms -> ms > 0);
    }

    private static long timeCompart(LibxlContext ctx, DomainConfig config) {
        long started = System.nanoTime();
        int domid = ctx.createPaused(config);
        try {
            ctx.unpause(domid);
            return (System.nanoTime() - started) / 1_000_000;
        } finally {
            ctx.destroy(domid);
        }
    }

    private static long median(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
