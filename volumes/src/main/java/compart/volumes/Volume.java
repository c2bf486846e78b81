package compart.volumes;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * One volume of a qube in a {@link Pool}, with the Qubes operations. Every change is crash safe: after a crash
 * at any point, the next operation on the volume first repairs it (finishing a commit whose new image was
 * durable, otherwise rolling back), and committed data — the last committed image and the revisions — is never
 * lost.
 *
 * <p>Errors are {@link compart.errors.CompartException}s: NOT_FOUND (no image, no such revision),
 * INVALID_STATE (running when it must be stopped), INVALID_VALUE (shrinking, read-only), STORAGE (the pool is
 * too full — the message says how much is needed and free — or the filesystem failed).
 *
 * <p>Thread safety: safe for concurrent use; operations are serialised per volume.
 */
public interface Volume {
    /** @return the volume id within its pool */
    String vid();

    /** @return the current config (resize changes the size) */
    VolumeConfig config();

    /** Creates the volume's storage: an empty sparse image for a {@code save_on_stop} volume, nothing for others. */
    void create();

    /** Removes the volume's images, running copy and revisions. */
    void remove();

    /**
     * Prepares the volume for a starting qube: snapshots the source ({@code snap_on_start}), takes a
     * copy-on-write working copy of the committed image ({@code save_on_stop}; after a crash the previous
     * working copy is kept), or makes an empty image (volatile).
     */
    void start();

    /** Ends a run: commits the working copy ({@code save_on_stop}) or discards it. Idempotent. */
    void stop();

    /** @return whether the volume is started (a working copy exists) */
    boolean isRunning();

    /** @return whether a started {@code snap_on_start} volume's source was committed since the snapshot */
    boolean isOutdated();

    /** @return the revisions, oldest first */
    List<Revision> revisions();

    /** Makes revision {@code id} the committed image; the replaced image becomes the newest revision. */
    void revert(String id);

    /** Grows the volume to {@code newSize} bytes (a running qube sees it after its block device is resized). */
    void resize(long newSize);

    /**
     * Replaces the committed image with exactly {@code size} bytes read from {@code data}, atomically: either the
     * whole new image is committed or the old one stays.
     */
    void importData(InputStream data, long size);

    /** Writes the committed image to {@code out}. */
    void exportData(OutputStream out);

    /** Replaces the committed image with a copy of {@code source}'s committed image (O(1) where the pool can). */
    void cloneFrom(Volume source);

    /** @return bytes of storage the volume's current image uses (its allocated blocks) */
    long usage();

    /** @return the current image's size in bytes */
    long size();

    /** @return the file or device a running qube's block device is backed by */
    Path blockDevicePath();
}
