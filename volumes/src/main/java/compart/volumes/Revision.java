package compart.volumes;

import java.time.Instant;

/**
 * An older committed state of a {@code save_on_stop} volume, which {@link Volume#revert(String)} can restore.
 *
 * @param id        the revision's name, unique within its volume; ids sort oldest first
 * @param timestamp when the data of this revision was last written
 */
public record Revision(String id, Instant timestamp) implements Comparable<Revision> {
    public Revision {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("revision id");
        }
    }

    @Override
    public int compareTo(Revision o) {
        return id.compareTo(o.id);
    }
}
