package compart.core.qubesdb;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One qube's QubesDB as dom0 keeps it: an exact mirror of the qube's copy, with what dom0 wrote and what the
 * qube wrote back. Paths are ordered as upstream orders them (byte order, they are ASCII). What the qube writes
 * is bounded ({@link #MAX_GUEST_ENTRIES} entries, {@link #MAX_GUEST_BYTES} bytes of values): a write past the
 * bounds is refused and the caller drops the connection; dom0's own writes are bounded by the inventory.
 *
 * <p>Thread safe.
 */
public final class QubesDb {
    /** The most entries a qube may make the database hold by its own writes. */
    public static final int MAX_GUEST_ENTRIES = 16_384;
    /** The most bytes of values a qube may make the database hold by its own writes. */
    public static final long MAX_GUEST_BYTES = 4L << 20;

    private final TreeMap<String, byte[]> entries = new TreeMap<>();
    private long bytes;

    /** @return the value at {@code path}, if any */
    public synchronized Optional<String> read(String path) {
        return Optional.ofNullable(entries.get(path)).map(v -> new String(v, StandardCharsets.UTF_8));
    }

    /** @return every entry, as text */
    public synchronized SortedMap<String, String> snapshot() {
        var m = new TreeMap<String, String>();
        entries.forEach((k, v) -> m.put(k, new String(v, StandardCharsets.UTF_8)));
        return Collections.unmodifiableSortedMap(m);
    }

    /** @return how many entries it holds */
    public synchronized int size() {
        return entries.size();
    }

    /**
     * Writes an entry for dom0.
     *
     * @param path  an entry path ({@link QdbPath#checkEntry})
     * @param value at most {@link QdbCodec#MAX_DATA_LEN} bytes, no NUL
     */
    public synchronized void write(String path, byte[] value) {
        QdbPath.checkEntry(path);
        QdbCodec.checkData(value);
        put(path, value);
    }

    /**
     * Writes an entry the qube wrote, within the bounds.
     *
     * @return false, changing nothing, when the path names no entry or the bounds would be passed
     */
    public synchronized boolean writeFromGuest(String untrustedPath, byte[] value) {
        if (!QdbPath.validEntry(untrustedPath) || !QdbCodec.dataValid(value)) {
            return false;
        }
        var old = entries.get(untrustedPath);
        long after = bytes + value.length - (old == null ? 0 : old.length);
        if (old == null && entries.size() >= MAX_GUEST_ENTRIES || after > MAX_GUEST_BYTES) {
            return false;
        }
        put(untrustedPath, value);
        return true;
    }

    private void put(String path, byte[] value) {
        var old = entries.put(path, value.clone());
        bytes += value.length - (old == null ? 0 : old.length);
    }

    /** @return whether {@link #remove} of {@code path} would remove anything */
    public synchronized boolean hasAny(String path) {
        return path.endsWith("/") ? !under(path).isEmpty() : entries.containsKey(path);
    }

    /**
     * Removes an entry, or with a trailing '/' every entry under that directory (upstream's RM).
     *
     * @return whether anything was removed
     */
    public synchronized boolean remove(String path) {
        if (!path.endsWith("/")) {
            var old = entries.remove(path);
            if (old != null) {
                bytes -= old.length;
            }
            return old != null;
        }
        var dir = under(path);
        boolean any = !dir.isEmpty();
        for (var v : dir.values()) {
            bytes -= v.length;
        }
        dir.clear();
        return any;
    }

    private SortedMap<String, byte[]> under(String prefix) {
        return prefix.isEmpty() ? entries : entries.subMap(prefix, prefix + Character.MAX_VALUE);
    }

    /**
     * The answer to a MULTIREAD: the entries under {@code prefix} in order, or for an empty prefix every entry in
     * reverse order (as upstream sends a full dump, so that the other side inserts at the front).
     */
    public synchronized List<QdbMessage> multiread(String prefix) {
        var out = new ArrayList<QdbMessage>();
        var matching = prefix.isEmpty() ? entries.descendingMap() : under(prefix);
        for (Map.Entry<String, byte[]> e : matching.entrySet()) {
            out.add(new QdbMessage(QdbType.RESP_MULTIREAD, e.getKey(), e.getValue()));
        }
        return out;
    }
}
