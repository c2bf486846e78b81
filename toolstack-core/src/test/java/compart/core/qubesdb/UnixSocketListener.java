package compart.core.qubesdb;

import compart.core.qrexec.Link;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test support: a {@link QubesDbServer.Listener} on a Unix socket, the stand-in for the vchan of
 * {@code vchan-over-socket.c} (each connection of the qube's daemon is one accepted socket).
 */
final class UnixSocketListener implements QubesDbServer.Listener, AutoCloseable {
    private final ServerSocketChannel server;

    UnixSocketListener(Path path) throws IOException {
        Files.deleteIfExists(path);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
    }

    @Override
    public Link listen() {
        try {
            var channel = server.accept();
            return new ChannelLink(channel, channel);
        } catch (IOException e) {
            throw new CompartException(ErrorKind.PROTOCOL, "accept: " + e.getMessage());
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
