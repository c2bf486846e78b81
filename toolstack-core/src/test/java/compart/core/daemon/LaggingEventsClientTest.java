package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.ops.QubeEvent;
import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An {@code admin.Events} client that falls behind is told so and disconnected (Qubes' client then reconnects),
 * instead of being dropped silently with its connection left open.
 */
class LaggingEventsClientTest {
    static final int BACKLOG = 50;

    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(8192)
            .option("--events-backlog", Integer.toString(BACKLOG)).option("--request-timeout", "2");

    SocketChannel subscribe() throws IOException {
        var ch = SocketChannel.open(UnixDomainSocketAddress.of(compartd.socket()));
        ch.write(ByteBuffer.wrap("admin.Events+ dom0 name dom0\0".getBytes(StandardCharsets.US_ASCII)));
        ch.shutdownOutput();
        return ch;
    }

    /** @return every byte until the daemon closes the connection, NULs as {@code |} */
    static String readToEnd(SocketChannel ch) throws IOException {
        return new String(Wire.readToEnd(ch), StandardCharsets.UTF_8).replace('\0', '|');
    }

    void publish(int n) {
        for (int i = 0; i < n; i++) {
            compartd.toolstack().events().publish(new QubeEvent("dom0", "domain-feature-set:n" + i, Map.of()));
        }
    }

    @Test
    void clientThatDoesNotRead_isToldItLagged_andDisconnected() throws Exception {
        try (var ch = subscribe()) {
            ch.read(ByteBuffer.allocate(29)); // connection-established
            // a burst while the client reads nothing: its queue overflows (its socket buffer holds some)
            publish(50_000);
            String rest = readToEnd(ch);
            assertThat(rest).endsWith("1||connection-lagged|reason|more than " + BACKLOG
                    + " events behind; events after that are lost: reconnect||");
            assertThat(rest).startsWith("1|dom0|domain-feature-set:n0||");
            assertThat(rest.split("domain-feature-set").length - 1).isLessThan(50_000);
        }
    }

    @Test
    void clientThatKeepsUp_getsEveryEvent_andStaysConnected() throws Exception {
        try (var ch = subscribe()) {
            var buf = ByteBuffer.allocate(1 << 20);
            ch.read(buf);
            publish(BACKLOG - 1);
            String expectedLast = "1\0dom0\0domain-feature-set:n" + (BACKLOG - 2) + "\0\0";
            var got = new StringBuilder();
            while (!got.toString().endsWith(expectedLast)) {
                buf.clear();
                ch.read(buf);
                got.append(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
            }
            assertThat(got.toString().split("domain-feature-set").length - 1).isEqualTo(BACKLOG - 1);
            publish(1);
            buf.clear();
            assertThat(ch.read(buf)).isPositive();
            assertThat(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8))
                    .isEqualTo("1\0dom0\0domain-feature-set:n0\0\0");
        }
    }

    @Test
    void clientThatClosed_isNoticedAtTheNextEvent_andItsConnectionFreed() throws Exception {
        var ch = subscribe();
        ch.read(ByteBuffer.allocate(29));
        var server = compartd.running().server();
        assertThat(server.openConnections()).isEqualTo(1);
        ch.close();
        publish(1);
        long waited = System.nanoTime();
        while (server.openConnections() > 0 && System.nanoTime() - waited < 5_000_000_000L) {
            Thread.onSpinWait();
        }
        assertThat(server.openConnections()).isZero();
    }
}
