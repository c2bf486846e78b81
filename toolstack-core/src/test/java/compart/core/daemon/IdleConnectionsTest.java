package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import compart.core.ops.QubeEvent;
import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * Connections that send nothing (or too little, too slowly) cannot take compartd down: each socket holds at most
 * {@code --max-connections}, closing the oldest idle one for a new client; a request must arrive within
 * {@code --request-timeout}; dom0's calls are answered throughout, and the log says so once, not per connection.
 */
class IdleConnectionsTest {
    static final int LIMIT = 200;

    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(8192)
            .option("--max-connections", Integer.toString(LIMIT)).option("--request-timeout", "1");
    final Wire admin = compartd.admin();
    final ListAppender<ILoggingEvent> log = new ListAppender<>();
    final List<SocketChannel> idle = new ArrayList<>();

    @BeforeEach
    void captureLog() {
        log.start();
        var logger = (Logger) LoggerFactory.getLogger(AdminServer.class);
        logger.setLevel(Level.INFO);
        logger.addAppender(log);
    }

    @AfterEach
    void closeClients() throws IOException {
        var logger = (Logger) LoggerFactory.getLogger(AdminServer.class);
        logger.detachAppender(log);
        logger.setLevel(null);
        for (var ch : idle) {
            ch.close();
        }
    }

    SocketChannel connectIdle() throws IOException {
        var ch = SocketChannel.open(UnixDomainSocketAddress.of(compartd.socket()));
        idle.add(ch);
        return ch;
    }

    /** @return whether the daemon closed the connection: its read sees the end at once */
    static boolean closedByDaemon(SocketChannel ch) throws IOException {
        try {
            return ch.read(ByteBuffer.allocate(1)) < 0;
        } catch (IOException reset) {
            return true;
        }
    }

    AdminServer server() {
        return compartd.running().server();
    }

    @Test
    void thousandsOfIdleConnections_daemonAnswersEveryCall_andHoldsAtMostTheLimit() throws Exception {
        int answered = 0;
        for (int i = 0; i < 3000; i++) {
            connectIdle();
            if (i % 100 == 99) {
                assertThat(admin.call("admin.vm.List", "", "dom0", "")).startsWith("0|dom0 class=AdminVM");
                answered++;
                assertThat(server().openConnections()).isLessThanOrEqualTo(LIMIT);
            }
        }
        assertThat(answered).isEqualTo(30);
        // the oldest idle connections made room for the newer ones: the first are closed, the last still open
        assertThat(closedByDaemon(idle.getFirst())).isTrue();
        assertThat(server().closedForAbuse()).isGreaterThanOrEqualTo(3000 - LIMIT);
        assertThat(log.list).filteredOn(e -> e.getFormattedMessage().contains("the limit")).hasSize(1);
    }

    @Test
    void connectionLimit_leavesFileDescriptorsForTheRest_soAcceptNeverRunsOutOfThem() {
        var limits = AdminServer.ConnectionLimits.DEFAULT;
        assertThat(limits.withinFileLimit(2, 4096)).as("1,024 on each of two sockets fit in 4,096").isSameAs(limits);
        assertThat(limits.withinFileLimit(2, 1024).maxConnections()).isEqualTo((1024 - 256) / 2);
        assertThat(limits.withinFileLimit(2, 524288)).isSameAs(limits);
        assertThat(limits.withinFileLimit(2, 0)).as("unknown limit").isSameAs(limits);
    }

    @Test
    void idleConnection_isClosedAfterTheRequestTimeout_andFreed() throws Exception {
        var ch = connectIdle();
        ch.write(ByteBuffer.wrap("admin.vm.List+ dom0 na".getBytes(StandardCharsets.US_ASCII))); // and then nothing
        var quiet = connectIdle();
        // the read blocks until the daemon's deadline closes the connection (a few seconds at most)
        assertThat(closedByDaemon(ch)).isTrue();
        assertThat(closedByDaemon(quiet)).isTrue();
        long waited = System.nanoTime();
        while (server().openConnections() > 0 && System.nanoTime() - waited < 5_000_000_000L) {
            Thread.onSpinWait();
        }
        assertThat(server().openConnections()).isZero();
        assertThat(admin.call("admin.vm.List", "", "dom0", "")).startsWith("0|dom0");
    }

    @Test
    void requestSentInPieces_withinTheTimeout_isAnswered() throws Exception {
        try (var ch = SocketChannel.open(UnixDomainSocketAddress.of(compartd.socket()))) {
            for (String piece : List.of("admin.vm.", "List+ dom0", " name dom0\0")) {
                ch.write(ByteBuffer.wrap(piece.getBytes(StandardCharsets.US_ASCII)));
                Thread.sleep(50);
            }
            ch.shutdownOutput();
            var reply = ByteBuffer.allocate(4096);
            while (ch.read(reply) >= 0) {
                // until the daemon closes
            }
            assertThat(new String(reply.array(), 0, reply.position(), StandardCharsets.UTF_8))
                    .startsWith("0\0dom0 class=AdminVM");
        }
    }

    @Test
    void socketFullOfBusyConnections_refusesNewOnes_andServesAgainOnceTheyEnd() throws Exception {
        // admin.Events streams and slow calls have sent their request: they are not idle, so never evicted; streams
        // take at most half the connections
        var streams = new ArrayList<SocketChannel>();
        try {
            for (int i = 0; i < LIMIT / 2; i++) {
                var ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                ch.connect(UnixDomainSocketAddress.of(compartd.socket()));
                ch.write(ByteBuffer.wrap("admin.Events+ dom0 name dom0\0".getBytes(StandardCharsets.US_ASCII)));
                ch.shutdownOutput();
                ch.read(ByteBuffer.allocate(64)); // connection-established
                streams.add(ch);
            }
            var one = SocketChannel.open(UnixDomainSocketAddress.of(compartd.socket()));
            streams.add(one);
            assertThat(new Wire(compartd.socket()).call("admin.Events", "", "dom0", ""))
                    .startsWith("2|QubesException||compartd streams events to " + LIMIT / 2 + " clients, its limit");
            // the other half: calls that hold their connection (an import that sends its data slowly)
            for (int i = 0; i < LIMIT / 2; i++) {
                var ch = SocketChannel.open(UnixDomainSocketAddress.of(compartd.socket()));
                ch.write(ByteBuffer.wrap("admin.vm.volume.Import+private dom0 name dom0\0".getBytes(
                        StandardCharsets.US_ASCII)));
                streams.add(ch);
            }
            streams.remove(one);
            one.close();
            Thread.sleep(100);
            assertThat(admin.call("admin.vm.List", "", "dom0", "")).isEqualTo("2|QubesException||compartd serves "
                    + LIMIT + " connections on this socket, its limit, and none is idle: try again later|");
        } finally {
            for (var ch : streams) {
                ch.close();
            }
        }
        // closed streams are noticed at their next event
        compartd.toolstack().events().publish(new QubeEvent("dom0", "domain-feature-set:x", Map.of()));
        long waited = System.nanoTime();
        String reply = "";
        while (!reply.startsWith("0|") && System.nanoTime() - waited < 10_000_000_000L) {
            reply = new String(admin.send("admin.vm.List+ dom0 name dom0\0".getBytes(StandardCharsets.US_ASCII)),
                    StandardCharsets.UTF_8).replace('\0', '|');
        }
        assertThat(reply).startsWith("0|dom0");
        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage)
                .anySatisfy(m -> assertThat(m).contains("back to"));
    }
}
