package compart.xl.vchan;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.xl.foreign.XenHost;
import compart.xl.xenstore.XenStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * libxenvchan on a real dom0. A data exchange needs a peer in another domain (Xen refuses dom0 mapping its own
 * grants: {@code gnttab: mmap failed: EINVAL}, seen on the Xen host), so this checks the server end: it grants
 * its rings, publishes {@code ring-ref} and {@code event-channel} at the path, waits for a client, and closes.
 */
@Tag("xen")
class VchanXenTest {
    @Test
    void server_publishesItsRingAndEventChannel_andWaitsForAClient() {
        XenHost.assumeDom0();
        String path = "/local/domain/0/data/cvchan/" + ProcessHandle.current().pid();
        assertThat(path.length()).isLessThanOrEqualTo(Vchan.MAX_XS_PATH);
        try (XenStore xs = XenStore.open()) {
            try (Vchan server = Vchan.server(0, path, 4096, 4096)) {
                assertThat(server.state()).isEqualTo(Vchan.State.WAITING_FOR_CLIENT);
                assertThat(xs.list(path)).containsExactlyInAnyOrder("ring-ref", "event-channel");
                assertThat(Integer.parseInt(xs.read(path + "/ring-ref").orElseThrow())).isPositive();
                assertThat(Integer.parseInt(xs.read(path + "/event-channel").orElseThrow())).isPositive();
                assertThat(server.eventFd()).isNotNegative();
                assertThat(server.available()).isZero();
                assertThat(server.writableSpace()).isPositive();
            }
            xs.remove(path);
        }
    }

    @Test
    void aPathLibxenvchanWouldTruncate_isRefusedBeforeCallingIt() {
        CompartException e = catchThrowableOfType(CompartException.class,
                () -> Vchan.server(0, "/local/domain/0/data/compart-vchan-0123456789abcdef0123456789", 4096, 4096));
        assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_VALUE);
        assertThat(e.getMessage()).contains("truncates");
    }
}
