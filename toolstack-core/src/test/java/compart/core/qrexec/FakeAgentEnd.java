package compart.core.qrexec;

import compart.core.qubesdb.ChannelLink;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Test support: the agent's end of a control channel written by the test, to send what no real agent would: it
 * publishes {@code DIR/DOMID.0.512} as {@link SocketVchanTransport} expects, sends a protocol 4 hello when dom0
 * connects and lets the test write raw frames and read dom0's messages.
 */
final class FakeAgentEnd implements AutoCloseable {
    private final ServerSocketChannel server;
    private final Path path;
    private final CompletableFuture<MessageStream> accepted;
    private ChannelLink link;

    FakeAgentEnd(Path dir, int domid) throws IOException {
        path = dir.resolve(domid + ".0." + MessageCodec.CONTROL_PORT);
        Files.deleteIfExists(path);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        accepted = CompletableFuture.supplyAsync(() -> {
            try {
                var c = server.accept();
                link = new ChannelLink(c, c);
                var stream = new MessageStream(link);
                stream.write(new Message.Hello(4));
                stream.read(); // dom0's answer
                return stream;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** @return the channel, once dom0 connected and answered the hello */
    MessageStream stream() throws Exception {
        return accepted.get(20, TimeUnit.SECONDS);
    }

    /** Writes raw bytes, as a malicious agent could. */
    void writeRaw(byte[] bytes) throws Exception {
        stream();
        link.write(bytes);
    }

    @Override
    public void close() throws IOException {
        if (link != null) {
            link.close();
        }
        server.close();
        Files.deleteIfExists(path);
    }
}
