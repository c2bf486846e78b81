package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** An HVM guest: libxl starts the qemu-xen device model (qemu-system-xen), SeaBIOS boots the kernel directly. */
class HvmGuestIT {

    @Test
    void hvmGuest_bootsThroughTheDeviceModel_reportsHvm_andPowersOff() throws Exception {
        try (var guest = TestGuest.hvm("it-hvm").create()) {
            assertThat(Dom0Host.run(java.util.List.of("pgrep", "-f", "xen-qemu-system-i386.*-xen-domid"),
                    Duration.ofMinutes(1)).exitCode()).as("a device model runs for the HVM guest").isZero();

            String console = guest.awaitConsole("COMPART-GUEST: poweroff", TestGuest.HVM_BOOT);

            assertThat(console).contains("COMPART-GUEST: up type=HVM");
            guest.awaitGone(Duration.ofMinutes(2));
        }
    }
}
