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

    /** @return a link that accepts the daemon's next connection when first used (a vchan server waits alike) */
    @Override
    public Link listen() {
        return new Link() {
            private final Object accepting = new Object();
            private volatile ChannelLink accepted;

            private ChannelLink accepted() {
                synchronized (accepting) {
                    if (accepted == null) {
                        try {
                            var channel = server.accept();
                            accepted = new ChannelLink(channel, channel);
                        } catch (IOException e) {
                            throw new CompartException(ErrorKind.PROTOCOL, "accept: " + e.getMessage());
                        }
                    }
                    return accepted;
                }
            }

            @Override
            public int read(byte[] into, int offset, int length) {
                try {
                    return accepted().read(into, offset, length);
                } catch (CompartException e) {
                    return -1;
                }
            }

            @Override
            public void write(byte[] bytes) {
                accepted().write(bytes);
            }

            @Override
            public void close() {
                var a = accepted; // a server closing while accept() waits interrupts its thread instead
                if (a != null) {
                    a.close();
                }
            }
        };
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
