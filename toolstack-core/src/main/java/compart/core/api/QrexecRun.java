package compart.core.api;

import compart.core.model.Inventory;
import compart.core.model.Names;
import compart.core.model.QubeClass;
import compart.core.ops.QrexecCommands;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code internal.vm.Run}: how dom0's {@code qvm-run} reaches a qube's qrexec agent. In Qubes, {@code qvm-run}
 * in dom0 runs {@code qrexec-client -d QUBE USER:COMMAND}, which talks to the qube's {@code qrexec-daemon}; the
 * Admin API carries no command data. Compart's qrexec daemons live in compartd, so this method on compartd's
 * socket plays {@code qrexec-client}'s part. It is accepted from dom0 only (a qube's calls go through qrexec and
 * its policy, never through this method) and is not an {@code admin.*} method.
 *
 * <h2>Wire format</h2>
 * The connection starts like every Admin API call with the header {@code internal.vm.Run+ dom0 name QUBE\0};
 * after it both sides send frames, each a type byte, a 4-byte big-endian length (at most {@value #MAX_FRAME}) and
 * that many bytes:
 * <ul>
 *   <li>client, first and once: {@code R} = flags byte (bit 0 {@value #AUTOSTART}: start a halted or unpause a
 *       paused qube; bit 1 {@value #SERVICE}: the command is a service name {@code SERVICE[+ARG]}), the user in
 *       UTF-8 (empty: the qube's {@code default_user}), a NUL, the command in UTF-8;</li>
 *   <li>client, then: {@code 0} = stdin bytes; an empty {@code 0} frame (or the client closing its side) ends
 *       stdin;</li>
 *   <li>daemon: {@code 1} = stdout bytes, {@code 2} = stderr bytes, then exactly one last frame: {@code X} = the
 *       remote exit code (4 bytes, big-endian), or {@code F} = a failure, {@code TYPE\0MESSAGE} with TYPE a Qubes
 *       exception class name (unknown qube, not running without autostart, no qrexec on this host, the agent
 *       went away); the daemon then closes.</li>
 * </ul>
 * A service call from dom0 runs {@code QUBESRPC SERVICE+ARG dom0} in the qube, as Qubes' qrexec-client does.
 *
 * <p>Thread safe; each call blocks its connection's thread until the command ends.
 */
public final class QrexecRun {
    private static final Logger LOG = LoggerFactory.getLogger(QrexecRun.class);
    private static final Pattern SERVICE_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}(\\+[A-Za-z0-9_.+-]{0,64})?");
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}");

    /** The method name on the socket. */
    public static final String METHOD = "internal.vm.Run";
    /** The largest frame payload either side may send. */
    public static final int MAX_FRAME = 65536;
    /** Frame types. */
    public static final byte REQUEST = 'R', STDIN = '0', STDOUT = '1', STDERR = '2', EXIT = 'X', FAILURE = 'F';
    /** Flags of the request frame. */
    public static final int AUTOSTART = 1, SERVICE = 2;

    private final Supplier<Inventory> inventory;
    private final QrexecCommands commands;

    /**
     * @param inventory the current inventory
     * @param commands  how a command runs in a qube
     */
    QrexecRun(Supplier<Inventory> inventory, QrexecCommands commands) {
        this.inventory = inventory;
        this.commands = commands;
    }

    /**
     * Serves one call; never throws (a failure becomes an {@code F} frame, a client gone away is logged).
     *
     * @param request the request header (empty payload)
     * @param in      the client's frames after the header
     * @param out     where the daemon's frames go
     */
    public void serve(AdminRequest request, InputStream in, OutputStream out) {
        var frames = new FrameWriter(out);
        try {
            int code = run(request, new DataInputStream(in), frames);
            frames.write(EXIT, ByteBuffer.allocate(4).putInt(code).array());
        } catch (CompartException | CompletionException e) {
            var f = ExceptionTypes.describe(e, Topic.START);
            LOG.info("{} {}: {}", METHOD, request.dest(), f.message());
            try {
                frames.write(FAILURE, (f.type() + "\0" + f.message()).getBytes(StandardCharsets.UTF_8));
            } catch (UncheckedIOException gone) {
                LOG.debug("{}: client gone: {}", METHOD, gone.getMessage());
            }
        } catch (UncheckedIOException e) {
            LOG.debug("{}: client gone: {}", METHOD, e.getMessage());
        }
    }

    private int run(AdminRequest request, DataInputStream in, FrameWriter frames) {
        if (!request.source().equals("dom0")) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, METHOD + " is for dom0 only: a qube's calls go "
                    + "through qrexec and its policy");
        }
        if (!request.arg().isEmpty() || request.untrustedPayload().length != 0) {
            throw new CompartException(ErrorKind.PROTOCOL, METHOD + ": unexpected argument or payload in the header");
        }
        var inv = inventory.get();
        Names.qube(request.dest());
        var q = inv.qube(request.dest());
        if (q.klass() == QubeClass.AdminVM) {
            throw new CompartException(ErrorKind.PROTOCOL, METHOD + ": expected destination to not be AdminVM");
        }
        String name = q.name();
        byte[] req = readFrame(in, REQUEST, "the request frame");
        if (req.length < 2) {
            throw new CompartException(ErrorKind.PROTOCOL, METHOD + ": request frame too short");
        }
        int flags = req[0];
        int nul = indexOf(req, (byte) 0, 1);
        if (nul < 0 || (flags & ~(AUTOSTART | SERVICE)) != 0) {
            throw new CompartException(ErrorKind.PROTOCOL, METHOD + ": malformed request frame");
        }
        String user = new String(req, 1, nul - 1, StandardCharsets.UTF_8);
        String command = new String(req, nul + 1, req.length - nul - 1, StandardCharsets.UTF_8);
        if (user.isEmpty()) {
            user = inv.value(q, "default_user").orElse("user");
        }
        if (!USER.matcher(user).matches()) {
            throw CompartException.invalidValue("qvm-run: invalid user name '%s'", AdminText.printable(user));
        }
        if ((flags & SERVICE) != 0) {
            if (!SERVICE_NAME.matcher(command).matches()) {
                throw CompartException.invalidValue("qvm-run: invalid service name '%s'",
                        AdminText.printable(command));
            }
            command = "QUBESRPC " + command + " dom0";
        } else if (command.isEmpty() || command.indexOf('\0') >= 0) {
            throw CompartException.invalidValue("qvm-run: the command must be non-empty and without NUL bytes");
        }
        boolean autostart = (flags & AUTOSTART) != 0;
        LOG.info("{}: {} as {} in {}", METHOD, (flags & SERVICE) != 0 ? "service " + command : "a command", user,
                name);
        return commands.runInQube(name, user, command, autostart, new StdinFrames(in), frames.stream(STDOUT),
                frames.stream(STDERR));
    }

    private static int indexOf(byte[] b, byte v, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }

    /** Reads one frame of the given type. */
    private static byte[] readFrame(DataInputStream in, byte type, String what) {
        try {
            byte t = in.readByte();
            int length = in.readInt();
            if (t != type || length < 0 || length > MAX_FRAME) {
                throw new CompartException(ErrorKind.PROTOCOL, METHOD + ": expected " + what + " (type "
                        + (char) type + ", at most " + MAX_FRAME + " bytes)");
            }
            return in.readNBytes(length);
        } catch (EOFException e) {
            throw new CompartException(ErrorKind.PROTOCOL, METHOD + ": the client closed before " + what, e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The client's stdin frames as a stream: ends at an empty frame or when the client closes its side. */
    private static final class StdinFrames extends BulkReadStream {
        private final DataInputStream in;
        private byte[] chunk = new byte[0];
        private int pos;
        private boolean ended;

        StdinFrames(DataInputStream in) {
            this.in = in;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            while (pos == chunk.length) {
                if (ended) {
                    return -1;
                }
                try {
                    byte t = in.readByte();
                    int length = in.readInt();
                    if (t != STDIN || length < 0 || length > MAX_FRAME) {
                        throw new IOException(METHOD + ": expected a stdin frame");
                    }
                    chunk = in.readNBytes(length);
                    pos = 0;
                    ended = length == 0;
                } catch (EOFException e) {
                    ended = true;
                    chunk = new byte[0];
                    pos = 0;
                }
            }
            int n = Math.min(len, chunk.length - pos);
            System.arraycopy(chunk, pos, b, off, n);
            pos += n;
            return n;
        }
    }

    /** Writes whole frames; stdout and stderr come from different threads. */
    private static final class FrameWriter {
        private final OutputStream out;

        FrameWriter(OutputStream out) {
            this.out = out;
        }

        synchronized void write(byte type, byte[] data) {
            try {
                for (int off = 0; off < data.length || off == 0; off += MAX_FRAME) {
                    int n = Math.min(MAX_FRAME, data.length - off);
                    out.write(ByteBuffer.allocate(5).put(type).putInt(n).array());
                    out.write(data, off, n);
                    if (data.length == 0) {
                        break;
                    }
                }
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        OutputStream stream(byte type) {
            return new OutputStream() {
                @Override
                public void write(int b) {
                    FrameWriter.this.write(type, new byte[] {(byte) b});
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    if (len > 0) {
                        FrameWriter.this.write(type, Arrays.copyOfRange(b, off, off + len));
                    }
                }
            };
        }
    }
}
