package compart.volumes;

import java.util.List;
import java.util.Map;

/**
 * A place where volumes live, run by one {@link PoolDriver}. Like Qubes' pools, a pool does not store volume
 * configuration: the caller (the qube store) keeps each {@link VolumeConfig} and binds it with
 * {@link #volume(String, VolumeConfig)}; the pool keeps the data, its revisions and the running copies.
 *
 * <p>Thread safety: implementations are safe for concurrent use; operations on one volume are serialised.
 */
public interface Pool {
    /** @return the pool's configuration */
    PoolConfig config();

    /**
     * Binds a volume id to its config. Nothing is created: call {@link Volume#create()} for a new volume.
     *
     * @param vid volume id, a relative path of short names such as {@code appvms/work/private}
     * @throws compart.errors.CompartException INVALID_VALUE for a malformed vid
     */
    Volume volume(String vid, VolumeConfig config);

    /** @return the ids of the volumes that have data in this pool, sorted */
    List<String> volumeIds();

    /**
     * @return the ids of the volumes that have anything in this pool, sorted: {@link #volumeIds()} and what an
     *         interrupted operation left (a crash while creating a volume leaves only a temporary); what the
     *         toolstack looks at when it removes volumes no qube owns
     */
    default List<String> volumeIdsWithLeftovers() {
        return volumeIds();
    }

    /** @return the pool's space, from the filesystem or the thin pool */
    PoolUsage usage();

    /** @return the reserve, in percent of the pool's size, that operations must leave free */
    int reservePercent();

    /**
     * @return what the pool's driver adds to {@code qvm-pool info} beyond the options (a {@code file-reflink} pool
     *         with {@code dedup=on}: the state and figures of its deduplication), by key
     */
    default Map<String, String> figures() {
        return Map.of();
    }

    /** Ends what the pool runs in the background (its deduplication); its volumes stay as they are. */
    default void close() {
    }
}
