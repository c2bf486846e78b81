package compart.xl.libxl;

import compart.xl.foreign.Gcc;
import compart.xl.foreign.XenHost;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

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
