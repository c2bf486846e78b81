package compart.xl.libxl;

import compart.xl.foreign.XenHost;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An HVM guest (qemu-xen device model, SeaBIOS, direct kernel boot, serial to a file) created paused from our JSON,
 * seen as HVM, unpaused, destroyed, and its death received. Needs {@code compart.test.kernel} (and
 * {@code compart.test.initrd}); set {@code compart.test.hvm.waitMarker=true} to also wait (up to 5 min under TCG)
 * for the guest's marker on the serial log.
 */
@Tag("xen")
class HvmGuestXenTest {
    @Test
    void hvmGuest_createdPausedUnpausedAndDestroyed_fromJavaOnly() throws Exception {
        XenHost.assumeDom0();
        Path kernel = XenHost.requireFile("compart.test.kernel", "the guest kernel");
        assumeTrue(Files.isExecutable(Path.of("/usr/libexec/xen-qemu-system-i386"))
                        || Files.isExecutable(Path.of("/usr/lib/xen-4.17/bin/qemu-system-i386")),
                "no qemu-xen device model in dom0 (apt-get install qemu-system-xen)");
        Path serial = Path.of("/var/log/xen/compart-hvm-serial.log");
        Files.deleteIfExists(serial);
        DomainConfig config = DomainConfigFixtures.hvmTestGuest("compart-hvm", kernel, XenHost.existingFile("compart.test.initrd"), serial);
        try (LibxlContext ctx = LibxlContext.open()) {
            GuestRun run = GuestRun.start();
            int domid = run.createPaused(ctx, config);
            try (DomainWatch watch = ctx.watch(domid, run.events::add)) {
                DomainInfo info = ctx.domainInfo(domid).orElseThrow();
                assertThat(info.type()).isEqualTo(DomainType.HVM);
                assertThat(info.paused()).isTrue();
                ctx.unpause(domid);
                long runningMs = run.msSinceCreate();
                assertThat(ctx.domainInfo(domid).orElseThrow().paused()).isFalse();
                String where = Boolean.getBoolean("compart.test.hvm.waitMarker")
                        ? run.awaitMarker(config.name(), serial, Duration.ofMinutes(5)) : "not awaited";
                System.out.println("HVM domid=" + domid + " createPaused=" + run.createdMs() + "ms createToRunning="
                        + runningMs + "ms marker=" + where);
                ctx.destroy(domid);
                DomainEvent event = run.nextEvent(Duration.ofSeconds(30));
                while (event instanceof DomainEvent.Shutdown) {
                    event = run.nextEvent(Duration.ofSeconds(30));
                }
                assertThat(event).isEqualTo(new DomainEvent.Death(domid, config.uuid()));
                assertThat(ctx.domainInfo(domid)).isEmpty();
                assertThat(watch.domid()).isEqualTo(domid);
            } finally {
                if (ctx.domainInfo(domid).isPresent()) {
                    ctx.destroy(domid);
                }
            }
        }
    }
}
