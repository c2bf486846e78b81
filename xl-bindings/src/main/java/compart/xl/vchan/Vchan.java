package compart.xl.vchan;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.xl.foreign.LibcNative;
import compart.xl.foreign.NativeLibrary;
import compart.xl.foreign.ToolLogger;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

import static compart.xl.vchan.VchanNative.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One end of a libxenvchan channel: a byte stream over pages shared between two domains, signalled by an event
 * channel. The server end grants the pages and publishes them under a xenstore path; the client end maps them.
 *
 * <p>The xenstore path is limited to {@link #MAX_XS_PATH} bytes. Both ends must be in different domains: Xen does not
 * let dom0 map its own grants ({@code gnttab: mmap failed: EINVAL}), so a dom0-to-dom0 channel cannot connect.
 *
 * <p>The C library is used in its default non-blocking mode; the blocking methods here wait with {@code poll(2)}
 * on the event fd and {@code libxenvchan_wait}, so {@code struct libxenvchan}'s bitfields are never touched.
 *
 * <p><b>Threads.</b> libxenvchan has no locking: one reader thread and one writer thread at a time at most, and
 * {@link #close()} only when neither is inside a call. The native buffer used for copying belongs to the
 * instance and is freed by {@link #close()}.
 */
public final class Vchan implements AutoCloseable {
    private static final int BUFFER = 64 * 1024;
    /**
     * libxenvchan 4.17 formats {@code <xs_path>/event-channel} into a 64-byte buffer and silently truncates longer
     * paths (seen on the Xen host: the nodes landed under a cut path), so the base path must stay short.
     */
    public static final int MAX_XS_PATH = 63 - "/event-channel".length();
    private static final int POLL_SLICE_MILLIS = 200;

    private final MemorySegment ctrl;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment readBuffer = arena.allocate(BUFFER);
    private final MemorySegment writeBuffer = arena.allocate(BUFFER);
    private final MemorySegment pollfd = arena.allocate(LibcNative.POLLFD);
    private final MemorySegment errno = NativeLibrary.errnoState(arena);
    private final String description;
    private volatile boolean closed;

    private Vchan(MemorySegment ctrl, String description) {
        this.ctrl = ctrl;
        this.description = description;
    }

    /**
     * Creates the server end for {@code peerDomid} under {@code xsPath} ({@code libxenvchan_server_init}).
     *
     * @param readMin  minimum size of the ring this end reads from, bytes
     * @param writeMin minimum size of the ring this end writes to, bytes
     * @throws CompartException HYPERVISOR when the rings or the xenstore entries cannot be set up
     */
    public static Vchan server(int peerDomid, String xsPath, long readMin, long writeMin) {
        requireShortPath(xsPath);
        VchanNative.load();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment state = NativeLibrary.errnoState(call);
            ToolLogger.clearRecentErrors();
            MemorySegment ctrl = libxenvchan_server_init(state, ToolLogger.logger(), peerDomid, call.allocateFrom(xsPath),
                    readMin, writeMin);
            if (ctrl.equals(MemorySegment.NULL)) {
                throw initFailure("libxenvchan_server_init", peerDomid, xsPath, state);
            }
            return new Vchan(ctrl, "vchan server for domain " + peerDomid + " at " + xsPath);
        }
    }

    /**
     * Connects to the server end that {@code peerDomid} published under {@code xsPath}
     * ({@code libxenvchan_client_init}). The server must exist already.
     *
     * @throws CompartException HYPERVISOR when there is no server there or its pages cannot be mapped
     */
    public static Vchan client(int peerDomid, String xsPath) {
        requireShortPath(xsPath);
        VchanNative.load();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment state = NativeLibrary.errnoState(call);
            ToolLogger.clearRecentErrors();
            MemorySegment ctrl = libxenvchan_client_init(state, ToolLogger.logger(), peerDomid, call.allocateFrom(xsPath));
            if (ctrl.equals(MemorySegment.NULL)) {
                throw initFailure("libxenvchan_client_init", peerDomid, xsPath, state);
            }
            return new Vchan(ctrl, "vchan client of domain " + peerDomid + " at " + xsPath);
        }
    }

    private static void requireShortPath(String xsPath) {
        Objects.requireNonNull(xsPath, "xsPath");
        if (xsPath.isEmpty() || xsPath.getBytes(StandardCharsets.UTF_8).length > MAX_XS_PATH) {
            throw CompartException.invalidValue("vchan xenstore path must be 1-%d bytes (libxenvchan 4.17 truncates "
                    + "longer ones), got %d: %s", MAX_XS_PATH, xsPath.length(), xsPath);
        }
    }

    private static CompartException initFailure(String function, int peer, String path, MemorySegment state) {
        List<String> logged = ToolLogger.takeRecentErrors();
        return new CompartException(ErrorKind.HYPERVISOR, function + " failed for domain " + peer + " at " + path + ": "
                + LibcNative.describeErrno(NativeLibrary.errno(state))
                + (logged.isEmpty() ? "" : "; libxenvchan logged: " + String.join(" | ", logged))
                + "; check that the peer domain exists, that xenstored runs, that /dev/xen/gntdev and /dev/xen/evtchn "
                + "exist, and (client) that the server published " + path);
    }

    /** The state of the channel ({@code libxenvchan_is_open}). */
    public enum State { CLOSED, OPEN, WAITING_FOR_CLIENT }

    /** @return the channel's state */
    public State state() {
        requireOpen();
        return switch (libxenvchan_is_open(ctrl)) {
            case 1 -> State.OPEN;
            case 2 -> State.WAITING_FOR_CLIENT;
            default -> State.CLOSED;
        };
    }

    /** @return bytes readable now without blocking */
    public int available() {
        requireOpen();
        return libxenvchan_data_ready(ctrl);
    }

    /** @return bytes writable now without blocking */
    public int writableSpace() {
        requireOpen();
        return libxenvchan_buffer_space(ctrl);
    }

    /** @return the event-channel fd: readable when the state changed (for the caller's own poll loop) */
    public int eventFd() {
        requireOpen();
        return libxenvchan_fd_for_select(ctrl);
    }

    /**
     * Reads at least one byte, waiting for the peer when nothing is there.
     *
     * @return the number of bytes read, or -1 when the peer closed and nothing is left
     */
    public int read(byte[] into, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, into.length);
        requireOpen();
        if (length == 0) {
            return 0;
        }
        while (true) {
            int ready = libxenvchan_data_ready(ctrl);
            if (ready > 0) {
                int n = libxenvchan_read(ctrl, readBuffer, Math.min(Math.min(length, ready), BUFFER));
                if (n < 0) {
                    throw ioFailure("libxenvchan_read");
                }
                MemorySegment.copy(readBuffer, JAVA_BYTE, 0, into, offset, n);
                return n;
            }
            if (libxenvchan_is_open(ctrl) == 0) {
                return -1;
            }
            awaitEvent(Duration.ofMillis(POLL_SLICE_MILLIS));
        }
    }

    /** Writes all of {@code data}, waiting for ring space as needed. */
    public void write(byte[] data, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, data.length);
        requireOpen();
        int done = 0;
        while (done < length) {
            if (libxenvchan_is_open(ctrl) == 0) {
                throw new CompartException(ErrorKind.PROTOCOL, description + ": the peer closed the channel after "
                        + done + " of " + length + " bytes were written");
            }
            int space = libxenvchan_buffer_space(ctrl);
            if (space <= 0) {
                awaitEvent(Duration.ofMillis(POLL_SLICE_MILLIS));
                continue;
            }
            int chunk = Math.min(Math.min(space, length - done), BUFFER);
            MemorySegment.copy(data, offset + done, writeBuffer, JAVA_BYTE, 0, chunk);
            int n = libxenvchan_write(ctrl, writeBuffer, chunk);
            if (n < 0) {
                throw ioFailure("libxenvchan_write");
            }
            done += n;
        }
    }

    /** Writes all of {@code data}. */
    public void write(byte[] data) {
        write(data, 0, data.length);
    }

    /**
     * Waits up to {@code timeout} for the peer to signal (data, space, connect or close), then consumes the
     * signal ({@code libxenvchan_wait}).
     *
     * @return whether a signal came
     */
    public boolean awaitEvent(Duration timeout) {
        requireOpen();
        int fd = libxenvchan_fd_for_select(ctrl);
        pollfd.set(JAVA_INT, 0, fd);
        pollfd.set(ValueLayout.JAVA_SHORT, 4, LibcNative.POLLIN);
        pollfd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
        int n = LibcNative.poll(errno, pollfd, 1, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        if (n > 0) {
            if (libxenvchan_wait(ctrl) < 0) {
                throw ioFailure("libxenvchan_wait");
            }
            return true;
        }
        return false;
    }

    /** Closes this end ({@code libxenvchan_close}); the peer sees the channel closed. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        libxenvchan_close(ctrl);
        arena.close();
    }

    private void requireOpen() {
        if (closed) {
            throw CompartException.invalidState("%s is closed", description);
        }
    }

    private CompartException ioFailure(String function) {
        return new CompartException(ErrorKind.PROTOCOL, description + ": " + function
                + " failed: the shared ring is broken or the peer domain died");
    }
}
