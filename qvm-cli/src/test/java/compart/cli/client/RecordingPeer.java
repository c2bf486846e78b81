package compart.cli.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The other end of the socket for protocol tests of the client framing: a real unix-socket server that reads
 * each request to EOF (so it proves the client half-closes), records its bytes, and answers with given bytes.
 * It is not a stand-in for compartd: it knows nothing of the Admin API's methods.
 */
final class RecordingPeer implements AutoCloseable {
    final Path path;
    final List<byte[]> requests = new CopyOnWriteArrayList<>();
    private final ServerSocketChannel server;
    private final Thread thread;

    RecordingPeer(Path dir, List<byte[]> answers) throws IOException {
        path = dir.resolve("peer.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        thread = Thread.ofPlatform().daemon().start(() -> serve(answers));
    }

    private void serve(List<byte[]> answers) {
        for (byte[] answer : answers) {
            try (SocketChannel c = server.accept()) {
                var in = new ByteArrayOutputStream();
                ByteBuffer b = ByteBuffer.allocate(1 << 16);
                while (c.read(b) >= 0) {
                    in.write(b.array(), 0, b.position());
                    b.clear();
                }
                requests.add(in.toByteArray());
                ByteBuffer out = ByteBuffer.wrap(answer);
                while (out.hasRemaining()) {
                    c.write(out);
                }
            } catch (IOException e) {
                return;
            }
        }
    }

    /** @return {@code s} in UTF-8, for requests and answers written as text */
    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws Exception {
        server.close();
        thread.join(5000);
        Files.deleteIfExists(path);
    }
}
