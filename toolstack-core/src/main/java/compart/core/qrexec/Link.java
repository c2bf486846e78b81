package compart.core.qrexec;

/**
 * A byte stream between dom0 and one qube: a vchan in production ({@link VchanLink}), a pipe in codec tests.
 * One reader thread and one writer thread at a time.
 */
public interface Link extends AutoCloseable {

    /** Reads at least one byte, waiting for it; -1 at the end of the stream. */
    int read(byte[] into, int offset, int length);

    /** Writes all of {@code bytes}. */
    void write(byte[] bytes);

    @Override
    void close();
}
