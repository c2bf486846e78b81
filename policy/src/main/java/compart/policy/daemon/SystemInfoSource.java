package compart.policy.daemon;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.policy.SystemInfo;
import compart.policy.SystemInfoJson;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.function.Supplier;

/**
 * Where the daemon learns the state of the qubes for each decision: from qubesd (or compartd) with
 * {@code internal.GetSystemInfo}, as Qubes does, or from a JSON file re-read when it changes.
 */
public final class SystemInfoSource {
    private SystemInfoSource() {
    }

    /**
     * Asks the internal admin socket for {@code internal.GetSystemInfo} on every call.
     *
     * @param socket {@code /var/run/qubesd.internal.sock} on Qubes
     */
    public static Supplier<SystemInfo> qubesd(Path socket) {
        return () -> {
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(socket));
                ByteBuffer call = ByteBuffer.wrap("internal.GetSystemInfo+ dom0 name dom0\0"
                        .getBytes(StandardCharsets.US_ASCII));
                while (call.hasRemaining()) ch.write(call);
                ch.shutdownOutput();
                byte[] reply;
                try (InputStream in = Channels.newInputStream(ch)) {
                    reply = in.readNBytes(64 * 1024 * 1024);
                }
                if (reply.length < 2 || reply[0] != '0' || reply[1] != 0) {
                    throw new CompartException(ErrorKind.PROTOCOL, "internal.GetSystemInfo on " + socket
                            + " did not succeed (reply starts with "
                            + (reply.length == 0 ? "nothing" : "'" + (char) reply[0] + "'")
                            + "); check that the admin daemon runs and implements it");
                }
                return SystemInfoJson.read(new ByteArrayInputStream(reply, 2, reply.length - 2),
                        "internal.GetSystemInfo");
            } catch (IOException e) {
                throw new CompartException(ErrorKind.PROTOCOL, "cannot ask " + socket + " for the system info: "
                        + e + "; check that the admin daemon runs", e);
            }
        };
    }

    /** Reads a JSON file, again whenever its modification time changes. */
    public static Supplier<SystemInfo> file(Path file) {
        return new Supplier<>() {
            private FileTime seen;
            private SystemInfo cached;

            @Override
            public synchronized SystemInfo get() {
                try {
                    FileTime now = Files.getLastModifiedTime(file);
                    if (cached == null || !now.equals(seen)) {
                        try (InputStream in = Files.newInputStream(file)) {
                            cached = SystemInfoJson.read(in, file.toString());
                        }
                        seen = now;
                    }
                    return cached;
                } catch (IOException e) {
                    throw new CompartException(ErrorKind.NOT_FOUND, "cannot read system info " + file + ": " + e, e);
                }
            }
        };
    }
}
