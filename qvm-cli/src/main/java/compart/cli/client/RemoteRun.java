package compart.cli.client;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The client of compartd's {@code internal.vm.Run} (what {@code qrexec-client -d} is to Qubes' qrexec-daemon):
 * runs a command or service in a qube from dom0, streaming stdin to it and its stdout/stderr back, and returns its
 * exit code. The wire format is described in the daemon's {@code compart.core.api.QrexecRun}: after the header,
 * frames of a type byte, a 4-byte big-endian length (at most 65536) and the bytes; the client sends {@code R}
 * (flags, user, NUL, command) then {@code 0} stdin frames ending with an empty one; the daemon sends {@code 1}
 * stdout, {@code 2} stderr, and last {@code X} (exit code) or {@code F} (TYPE NUL MESSAGE).
 *
 * @param socket the daemon's socket
 */
public record RemoteRun(AdminSocket socket) {
    private static final int MAX_FRAME = 65536;
    /** Start a halted qube, unpause a paused one. */
    public static final int AUTOSTART = 1;
    /** The command is a service name {@code SERVICE[+ARG]}. */
    public static final int SERVICE = 2;

    /** The daemon refused or could not run the call: a Qubes exception type and its message. */
    public record Refused(String type, String message) {
    }

    /** The outcome: the remote exit code, or why it did not run. */
    public record Outcome(int exitCode, Refused refused) {
    }

    /**
     * @param qube    where to run
     * @param flags   {@link #AUTOSTART}, {@link #SERVICE}
     * @param user    the user, or empty for the qube's {@code default_user}
     * @param command the shell command (or service name)
     * @param stdin   copied to the command (on its own thread) until its end; null for none
     * @param stdout  receives the command's stdout
     * @param stderr  receives its stderr
     * @return the exit code, or the refusal
     * @throws CompartException when compartd cannot be reached or breaks the protocol
     */
    public Outcome run(String qube, int flags, String user, String command, InputStream stdin, OutputStream stdout,
                       OutputStream stderr) {
        byte[] header = AdminSocket.header(qube, "internal.vm.Run", null);
        var request = new ByteArrayOutputStream();
        request.write(flags);
        request.writeBytes(user.getBytes(StandardCharsets.UTF_8));
        request.write(0);
        request.writeBytes(command.getBytes(StandardCharsets.UTF_8));
        if (request.size() > MAX_FRAME) {
            throw CompartException.invalidValue("the command is too long: at most %d bytes", MAX_FRAME - 64);
        }
        try (SocketChannel ch = socket.open()) {
            write(ch, header);
            writeFrame(ch, (byte) 'R', request.toByteArray(), 0, request.size());
            Thread feeder = null;
            if (stdin == null) {
                try {
                    writeFrame(ch, (byte) '0', new byte[0], 0, 0);
                } catch (IOException e) {
                    // compartd refused the call and closed before reading stdin's end: its answer is still to read
                }
            } else {
                feeder = Thread.ofPlatform().daemon().name("qvm-run-stdin").start(() -> feed(ch, stdin));
            }
            try {
                return readAnswer(ch, stdout, stderr);
            } finally {
                if (feeder != null) {
                    feeder.interrupt();
                }
            }
        } catch (IOException e) {
            throw new CompartException(ErrorKind.PROTOCOL, "lost the connection to compartd at " + socket.path()
                    + " while running a command in " + qube + ": " + e.getMessage(), e);
        }
    }

    private static void feed(SocketChannel ch, InputStream stdin) {
        byte[] chunk = new byte[MAX_FRAME];
        try {
            for (int n; (n = stdin.read(chunk)) > 0; ) {
                writeFrame(ch, (byte) '0', chunk, 0, n);
            }
            writeFrame(ch, (byte) '0', chunk, 0, 0);
        } catch (IOException e) {
            // the call ended (the daemon closed) or stdin failed: nothing more to send
        }
    }

    private static Outcome readAnswer(SocketChannel ch, OutputStream stdout, OutputStream stderr) throws IOException {
        var head = ByteBuffer.allocate(5);
        while (true) {
            head.clear();
            if (!readFully(ch, head)) {
                throw new CompartException(ErrorKind.PROTOCOL, "compartd closed the connection before the command's "
                        + "exit code; see its log (journalctl -u compartd)");
            }
            byte type = head.get(0);
            int length = head.getInt(1);
            if (length < 0 || length > MAX_FRAME) {
                throw new CompartException(ErrorKind.PROTOCOL, "compartd sent a frame of " + length + " bytes");
            }
            var data = ByteBuffer.allocate(length);
            if (!readFully(ch, data)) {
                throw new CompartException(ErrorKind.PROTOCOL, "compartd closed the connection inside a frame");
            }
            switch (type) {
                case '1' -> {
                    stdout.write(data.array());
                    stdout.flush();
                }
                case '2' -> {
                    stderr.write(data.array());
                    stderr.flush();
                }
                case 'X' -> {
                    if (length != 4) {
                        throw new CompartException(ErrorKind.PROTOCOL, "compartd sent a malformed exit code");
                    }
                    return new Outcome(data.getInt(0), null);
                }
                case 'F' -> {
                    String text = new String(data.array(), StandardCharsets.UTF_8);
                    int nul = text.indexOf('\0');
                    return new Outcome(-1, nul < 0 ? new Refused("QubesException", text)
                            : new Refused(text.substring(0, nul), text.substring(nul + 1)));
                }
                default -> throw new CompartException(ErrorKind.PROTOCOL, "compartd sent a frame of unknown type 0x"
                        + Integer.toHexString(type & 0xff) + "; is this socket really compartd's?");
            }
        }
    }

    private static boolean readFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                return false;
            }
        }
        return true;
    }

    private static void writeFrame(SocketChannel ch, byte type, byte[] data, int off, int len) throws IOException {
        var b = ByteBuffer.allocate(5 + len).put(type).putInt(len).put(data, off, len).flip();
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void write(SocketChannel ch, byte[] bytes) throws IOException {
        var b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
