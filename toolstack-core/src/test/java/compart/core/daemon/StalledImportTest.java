package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.io.ByteArrayOutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A volume import whose client stops sending fails after {@code --payload-timeout}, so the qube's queue moves on:
 * its start and remove are not stuck behind it.
 */
class StalledImportTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(8192).withFedoraAndWork()
            .option("--payload-timeout", "1");
    final Wire admin = compartd.admin();

    @Test
    void importThatStalls_failsAfterThePayloadTimeout_andTheQubeStartsAfterIt() throws Exception {
        try (var ch = SocketChannel.open(UnixDomainSocketAddress.of(compartd.socket()));
             var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            // the size line and 512 bytes of 1 GiB, then silence (the connection stays open)
            ch.write(ByteBuffer.wrap(("admin.vm.volume.ImportWithSize+private dom0 name work\0" + (1L << 30) + "\n")
                    .getBytes(StandardCharsets.US_ASCII)));
            ch.write(ByteBuffer.allocate(512));
            var start = pool.submit(() -> admin.call("admin.vm.Start", "", "work", ""));
            assertThat(start.get()).isEqualTo("0|");
            var reply = new ByteArrayOutputStream();
            var buf = ByteBuffer.allocate(4096);
            try {
                while (ch.read(buf) >= 0) {
                    reply.write(buf.array(), 0, buf.position());
                    buf.clear();
                }
            } catch (java.io.IOException reset) {
                // closed by the daemon's deadline: no reply is fine too
            }
            assertThat(reply.toString(StandardCharsets.UTF_8)).doesNotStartWith("0");
        }
        admin.ok("admin.vm.Kill", "", "work", "");
        assertThat(admin.call("admin.vm.Remove", "", "work", "")).isEqualTo("0|");
    }
}
