package compart.core.qrexec;

import compart.core.qubesdb.ChannelLink;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Test support: dom0's {@link VchanTransport} over the Unix sockets of {@code src/test/c/vchan-over-socket}: the
 * vchan that domain S serves to domain C on port P is the socket {@code DIR/S.C.P}. Records every data channel
 * dom0 opens (control channels, port 512, are not data), so a test can show which calls dom0 carried.
 */
final class SocketVchanTransport implements VchanTransport {
    private final Path dir;
    private final List<String> dataChannels = new CopyOnWriteArrayList<>();

    SocketVchanTransport(Path dir) {
        this.dir = dir;
    }

    /** @return the data channels dom0 opened, as {@code "offer PEER PORT"} or {@code "connect SERVER PORT"} */
    List<String> dataChannels() {
        return List.copyOf(dataChannels);
    }

    @Override
    public Link connect(int serverDomid, int port) {
        Path path = dir.resolve(serverDomid + ".0." + port);
        if (!Files.exists(path)) {
            throw new CompartException(ErrorKind.HYPERVISOR, path + " is not published");
        }
        try {
            var channel = SocketChannel.open(UnixDomainSocketAddress.of(path));
            if (port != MessageCodec.CONTROL_PORT) {
                dataChannels.add("connect " + serverDomid + " " + port);
            }
            return new ChannelLink(channel, channel);
        } catch (IOException e) {
            throw new CompartException(ErrorKind.HYPERVISOR, path + ": " + e.getMessage());
        }
    }

    @Override
    public Offer offer(int peerDomid, int port) {
        Path path = dir.resolve("0." + peerDomid + "." + port);
        try {
            Files.deleteIfExists(path);
            var server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(path));
            server.configureBlocking(false);
            dataChannels.add("offer " + peerDomid + " " + port);
            return new Offer() {
                @Override
                public Link accept(Duration timeout) {
                    long deadline = System.nanoTime() + timeout.toNanos();
                    try {
                        while (true) {
                            SocketChannel c = server.accept();
                            if (c != null) {
                                c.configureBlocking(true);
                                close();
                                return new ChannelLink(c, c);
                            }
                            if (System.nanoTime() > deadline) {
                                close();
                                throw new CompartException(ErrorKind.TIMEOUT, "nobody connected to " + path);
                            }
                            Thread.sleep(2);
                        }
                    } catch (IOException e) {
                        throw new CompartException(ErrorKind.HYPERVISOR, path + ": " + e.getMessage());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new CompartException(ErrorKind.TIMEOUT, "interrupted waiting on " + path);
                    }
                }

                @Override
                public void close() {
                    try {
                        server.close();
                        Files.deleteIfExists(path);
                    } catch (IOException e) {
                        // gone already
                    }
                }
            };
        } catch (IOException e) {
            throw new CompartException(ErrorKind.HYPERVISOR, path + ": " + e.getMessage());
        }
    }
}
