package compart.policy;

import compart.errors.CompartException;
import compart.policy.model.QubeToken;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The state of the system a decision is made against: every qube by name, and by {@code uuid:UUID}.
 *
 * <p>Immutable and thread safe. dom0 is always present: {@link #of(Collection)} adds it (class AdminVM, the
 * all-zero uuid, running) when the caller left it out.
 */
public final class SystemInfo {
    /** The uuid of dom0. */
    public static final String DOM0_UUID = QubeToken.DOM0_UUID_TOKEN.substring("uuid:".length());

    private final Map<String, QubeInfo> byName;
    private final Map<String, QubeInfo> byUuid;

    private SystemInfo(Map<String, QubeInfo> byName) {
        this.byName = Collections.unmodifiableMap(byName);
        Map<String, QubeInfo> uuids = new HashMap<>();
        for (QubeInfo q : byName.values()) {
            if (q.uuid() != null) uuids.putIfAbsent(q.uuid(), q);
        }
        this.byUuid = Map.copyOf(uuids);
    }

    /**
     * @param qubes the qubes; names must be unique
     * @return the system, with dom0 added if absent
     * @throws CompartException INVALID_VALUE if two qubes share a name
     */
    public static SystemInfo of(Collection<QubeInfo> qubes) {
        Map<String, QubeInfo> map = new LinkedHashMap<>();
        for (QubeInfo q : qubes) {
            if (map.putIfAbsent(q.name(), q) != null) {
                throw CompartException.invalidValue(
                        "system info names the qube '%s' twice: give each qube once", q.name());
            }
        }
        map.computeIfAbsent("dom0", n -> new QubeInfo("dom0", "AdminVM", null, false, null, "Running", DOM0_UUID,
                false, null, null, null));
        return new SystemInfo(map);
    }

    /**
     * Looks a qube up the way the policy does: by name, or by {@code uuid:UUID}.
     *
     * @return the qube, or null if there is none
     */
    public QubeInfo find(String nameOrUuid) {
        Objects.requireNonNull(nameOrUuid);
        if (nameOrUuid.startsWith("uuid:")) return byUuid.get(nameOrUuid.substring(5));
        return byName.get(nameOrUuid);
    }

    /** @return the qubes by name, in the order given */
    public Map<String, QubeInfo> qubes() {
        return byName;
    }
}
