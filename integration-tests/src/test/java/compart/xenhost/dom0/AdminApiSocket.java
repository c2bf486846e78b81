package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Admin API calls to a compartd started by a test, as qubesadmin sends them over {@code qubesd.sock}:
 * {@code METHOD+ARG dom0 name DEST\0PAYLOAD}, answered {@code 0\0...} or {@code 2\0EXCEPTION\0...}.
 *
 * @param socket compartd's socket
 */
record AdminApiSocket(Path socket) {

    /** The answer with its NULs shown as {@code |}. */
    String call(String method, String arg, String dest, String payload) throws IOException {
        byte[] answer = exchange((method + "+" + arg + " dom0 name " + dest + "\0" + payload)
                .getBytes(StandardCharsets.UTF_8));
        return new String(answer, StandardCharsets.UTF_8).replace('\0', '|');
    }

    /** A call that must succeed: its answer after {@code 0\0}. */
    String ok(String method, String arg, String dest, String payload) throws IOException {
        String r = call(method, arg, dest, payload);
        assertThat(r).as("%s+%s %s", method, arg, dest).startsWith("0|");
        return r.substring(2);
    }

    /** {@code admin.vm.volume.ImportWithSize}: the image streamed after its size, as qvm-volume import sends it. */
    String importVolume(String qube, String volume, Path image) throws IOException {
        try (var ch = SocketChannel.open(StandardProtocolFamily.UNIX);
             var file = FileChannel.open(image)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            writeAll(ch, ("admin.vm.volume.ImportWithSize+" + volume + " dom0 name " + qube + "\0" + file.size()
                    + "\n").getBytes(StandardCharsets.UTF_8));
            long sent = 0;
            while (sent < file.size()) {
                sent += file.transferTo(sent, file.size() - sent, ch);
            }
            ch.shutdownOutput();
            return new String(readAll(ch), StandardCharsets.UTF_8).replace('\0', '|');
        }
    }

    /** One frame of {@code internal.vm.Run}: its type, the data's length (big-endian int), the data. */
    static byte[] frame(char type, byte[] data) {
        return ByteBuffer.allocate(5 + data.length).put((byte) type).putInt(data.length).put(data).array();
    }

    /**
     * What {@code qvm-run --pass-io QUBE COMMAND} sends and gets over {@code internal.vm.Run} (autostart on; this
     * module does not depend on qvm-cli, so the frames are written here as in {@code compart.cli.client.RemoteRun}).
     *
     * @return "stdout|stderr|X=code", or "F=TYPE|MESSAGE" when compartd refused
     */
    String run(String qube, String command) throws IOException {
        var req = new ByteArrayOutputStream();
        req.writeBytes(("internal.vm.Run+ dom0 name " + qube + "\0").getBytes(StandardCharsets.US_ASCII));
        req.writeBytes(frame('R', ("\1\0" + command).getBytes(StandardCharsets.UTF_8)));
        req.writeBytes(frame('0', new byte[0]));
        var answer = ByteBuffer.wrap(exchange(req.toByteArray(), false));
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        while (answer.hasRemaining()) {
            char type = (char) answer.get();
            byte[] data = new byte[answer.getInt()];
            answer.get(data);
            String text = new String(data, StandardCharsets.UTF_8);
            switch (type) {
                case '1' -> stdout.append(text);
                case '2' -> stderr.append(text);
                case 'X' -> {
                    return stdout + "|" + stderr + "|X=" + ByteBuffer.wrap(data).getInt();
                }
                case 'F' -> {
                    return "F=" + text.replace('\0', '|');
                }
                default -> throw new AssertionError("unknown frame type " + type);
            }
        }
        throw new AssertionError("no exit code; got stdout=" + stdout + " stderr=" + stderr);
    }

    private byte[] exchange(byte[] request) throws IOException {
        return exchange(request, true);
    }

    /** Sends {@code request} (then ends the sending side, if asked) and returns all compartd answered. */
    byte[] exchange(byte[] request, boolean shutdownOutput) throws IOException {
        try (var ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            writeAll(ch, request);
            if (shutdownOutput) {
                ch.shutdownOutput();
            }
            return readAll(ch);
        }
    }

    private static void writeAll(SocketChannel ch, byte[] bytes) throws IOException {
        var b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static byte[] readAll(SocketChannel ch) throws IOException {
        var out = new ByteArrayOutputStream();
        var buf = ByteBuffer.allocate(65536);
        while (ch.read(buf) >= 0) {
            out.write(buf.array(), 0, buf.position());
            buf.clear();
        }
        return out.toByteArray();
    }
}
