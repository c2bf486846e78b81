package compart.xl.vchan;

import compart.xl.foreign.XenHost;
import compart.xl.xenstore.XenStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * libxenvchan on a real dom0, both ends in dom0 (server for domain 0, client of domain 0): bytes written on
 * one end are read on the other, in both directions, more than a ring's worth, and close is seen.
 */
@Tag("xen")
class VchanXenTest {
    @Test
    void serverAndClientInDom0_exchangeBytesBothWays_andSeeTheClose() throws Exception {
        XenHost.assumeDom0();
        String path = "/local/domain/0/data/compart-vchan-" + UUID.randomUUID();
        try (XenStore xs = XenStore.open(); Vchan server = Vchan.server(0, path, 4096, 4096)) {
            assertThat(server.state()).isEqualTo(Vchan.State.WAITING_FOR_CLIENT);
            System.out.println("VCHAN server published " + path + ": " + xs.list(path) + " ring-ref="
                    + xs.read(path + "/ring-ref") + " event-channel=" + xs.read(path + "/event-channel"));
            try (Vchan client = Vchan.client(0, path)) {
                assertThat(XenHost.await(Duration.ofSeconds(5), () -> server.state() == Vchan.State.OPEN)).isTrue();
                byte[] big = new byte[300_000];
                for (int i = 0; i < big.length; i++) {
                    big[i] = (byte) (i * 31);
                }
                Thread writer = Thread.ofPlatform().start(() -> client.write(big));
                byte[] got = readFully(server, big.length);
                writer.join();
                assertThat(Arrays.equals(got, big)).isTrue();

                server.write("pong".getBytes(StandardCharsets.US_ASCII));
                assertThat(new String(readFully(client, 4), StandardCharsets.US_ASCII)).isEqualTo("pong");
            }
            assertThat(XenHost.await(Duration.ofSeconds(5), () -> server.state() == Vchan.State.CLOSED)).isTrue();
            assertThat(server.read(new byte[1], 0, 1)).isEqualTo(-1);
        }
    }

    private static byte[] readFully(Vchan vchan, int length) {
        byte[] out = new byte[length];
        int done = 0;
        while (done < length) {
            int n = vchan.read(out, done, length - done);
            assertThat(n).isPositive();
            done += n;
        }
        return out;
    }
}
