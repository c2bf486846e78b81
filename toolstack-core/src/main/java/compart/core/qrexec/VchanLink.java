package compart.core.qrexec;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.xl.vchan.Vchan;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.LoggerFactory;


/**
 * A {@link Link} over a libxenvchan end. Reads wait in short slices so that {@link #close()} can stop a reader:
 * close marks the link, waits for the reader and writer to leave, then frees the vchan (libxenvchan has no
 * locking of its own). A writer stuck on a full ring of a stalled peer keeps its vchan alive (leaked, logged)
 * rather than freeing memory under it.
 */
public final class VchanLink implements Link {
    private static final Duration SLICE = Duration.ofMillis(100);

    private final Vchan vchan;
    private final ReentrantLock reading = new ReentrantLock();
    private final ReentrantLock writing = new ReentrantLock();
    private volatile boolean stopping;
    private volatile boolean closed;

    public VchanLink(Vchan vchan) {
        this.vchan = Objects.requireNonNull(vchan, "vchan");
    }

    /** The xenstore path where {@code serverDomid} publishes its vchan to {@code peerDomid} on {@code port}. */
    public static String path(int serverDomid, int peerDomid, int port) {
        return "/local/domain/" + serverDomid + "/data/vchan/" + peerDomid + "/" + port;
    }

    @Override
    public int read(byte[] into, int offset, int length) {
        if (stopping) {
            return -1;
        }
        reading.lock();
        try {
            if (closed()) {
                return -1;
            }
            while (!stopping && vchan.available() == 0) {
                if (vchan.state() == Vchan.State.CLOSED) {
                    return -1;
                }
                vchan.awaitEvent(SLICE);
            }
            return stopping ? -1 : vchan.read(into, offset, length);
        } finally {
            reading.unlock();
        }
    }

    @Override
    public void write(byte[] bytes) {
        if (stopping) {
            throw new CompartException(ErrorKind.PROTOCOL, "qrexec: channel closed");
        }
        writing.lock();
        try {
            if (closed()) { // closed while this writer waited: the vchan is freed
                throw new CompartException(ErrorKind.PROTOCOL, "qrexec: channel closed");
            }
            vchan.write(bytes);
        } finally {
            writing.unlock();
        }
    }

    private boolean closed() {
        return closed;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopping = true;
        try {
            if (reading.tryLock(2, TimeUnit.SECONDS)) {
                try {
                    if (writing.tryLock(2, TimeUnit.SECONDS)) {
                        try {
                            vchan.close();
                            return;
                        } finally {
                            writing.unlock();
                        }
                    }
                } finally {
                    reading.unlock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LoggerFactory.getLogger(VchanLink.class).warn("qrexec: a thread is still inside a vchan call; leaving it open");
    }
}
