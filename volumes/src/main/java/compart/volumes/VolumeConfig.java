package compart.volumes;

import compart.errors.CompartException;
import java.util.regex.Pattern;

/**
 * How a qube uses one of its volumes, with the Qubes properties of the same names. The combinations give the
 * Qubes lifecycles:
 * <ul>
 *   <li>TemplateVM/StandaloneVM root, any private: {@code save_on_stop} — persistent, committed at stop,
 *       older states kept as revisions;</li>
 *   <li>AppVM root, DispVM private: {@code snap_on_start} with a {@code source} — a fresh copy-on-write
 *       snapshot of the source's committed image at every start, discarded at stop;</li>
 *   <li>volatile: neither — an empty sparse image at every start, removed at stop ({@code ephemeral} asks the
 *       block layer to encrypt it with a throw-away key).</li>
 * </ul>
 *
 * @param name            the volume's name within its qube ({@code root}, {@code private}, {@code volatile} …)
 * @param size            size in bytes, a multiple of 512
 * @param rw              whether the qube may write it
 * @param snapOnStart     whether each start snapshots {@code source}
 * @param saveOnStop      whether stop commits the qube's changes
 * @param source          the volume id ({@code vid}) snapshotted when {@code snapOnStart}, else null
 * @param revisionsToKeep how many older committed states to keep; -1 means the pool's default
 * @param ephemeral       whether a volatile volume is encrypted with a key that exists only while it runs
 */
public record VolumeConfig(String name, long size, boolean rw, boolean snapOnStart, boolean saveOnStop,
                           String source, int revisionsToKeep, boolean ephemeral) {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,30}");

    public VolumeConfig {
        if (name == null || !NAME.matcher(name).matches()) {
            throw CompartException.invalidValue("volume name %s is not valid: use [a-z][a-z0-9_-]{0,30}", name);
        }
        if (size < 0 || size % 512 != 0) {
            throw CompartException.invalidValue("volume %s: size %d is not a non-negative multiple of 512", name, size);
        }
        if (snapOnStart && (source == null || source.isBlank())) {
            throw CompartException.invalidValue("volume %s: snap_on_start needs a source volume", name);
        }
        if (!snapOnStart && source != null) {
            throw CompartException.invalidValue("volume %s: a source (%s) is only used with snap_on_start", name, source);
        }
        if (snapOnStart && saveOnStop) {
            throw CompartException.invalidValue(
                    "volume %s: snap_on_start and save_on_stop together are not supported (Qubes does not use it)", name);
        }
        if (revisionsToKeep < -1) {
            throw CompartException.invalidValue("volume %s: revisions_to_keep %d is negative", name, revisionsToKeep);
        }
        if (ephemeral && (snapOnStart || saveOnStop)) {
            throw CompartException.invalidValue("volume %s: only a volatile volume can be ephemeral", name);
        }
    }

    /** A persistent volume committed at stop: TemplateVM and StandaloneVM root, every private volume. */
    public static VolumeConfig persistent(String name, long size) {
        return new VolumeConfig(name, size, true, false, true, null, -1, false);
    }

    /** A volume snapshotted from {@code sourceVid} at each start and discarded at stop: AppVM root, DispVM private. */
    public static VolumeConfig snapshot(String name, long size, String sourceVid) {
        return new VolumeConfig(name, size, true, true, false, sourceVid, 0, false);
    }

    /** An empty volume at each start, discarded at stop. */
    public static VolumeConfig volatileVolume(String name, long size, boolean ephemeral) {
        return new VolumeConfig(name, size, true, false, false, null, 0, ephemeral);
    }

    /** @return this config with another size */
    public VolumeConfig withSize(long newSize) {
        return new VolumeConfig(name, newSize, rw, snapOnStart, saveOnStop, source, revisionsToKeep, ephemeral);
    }

    /** @return this config with another number of revisions to keep */
    public VolumeConfig withRevisionsToKeep(int keep) {
        return new VolumeConfig(name, size, rw, snapOnStart, saveOnStop, source, keep, ephemeral);
    }
}
