package compart.xl.xenstore;

/**
 * A registered xenstore watch ({@link XenStore#watch}). Closing it removes the watch ({@code xs_unwatch});
 * closing twice does nothing. Thread-safe.
 */
public interface XenStoreWatch extends AutoCloseable {
    /** @return the watched path */
    String path();

    @Override
    void close();
}
