package compart.volumes.lvm;

import compart.errors.CompartException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How volumes are named in the volume group, with Qubes' suffixes. Volume id {@code appvms/work/private} is the
 * logical volume {@code appvms+work+private} ({@code +} is allowed in LV names and not in vid parts, so the
 * mapping is reversible; a one-part vid such as Qubes' {@code vm-work-private} is the LV of the same name).
 * The committed image is that LV; {@code NAME-snap} is the running copy of a snapshot or persistent volume
 * (a volatile volume runs on {@code NAME} itself); {@code NAME-import} is a staged image (complete once tagged
 * {@value LvmCommand#STAGED_TAG}); {@code NAME-SECONDS-back} are revisions, ids {@code SECONDS-back} as in Qubes.
 */
final class LvNames {
    static final String SNAP = "-snap";
    static final String IMPORT = "-import";
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final Pattern REVISION = Pattern.compile("(\\d{1,18})-back");
    private static final Pattern INTERNAL = Pattern.compile(".*(?:-snap|-import|-\\d{1,18}-back)");
    private static final int MAX_LV_NAME = 120; // LVM allows 127; our longest suffix is 25

    private LvNames() {}

    /**
     * @return the LV name of volume {@code vid}
     * @throws CompartException INVALID_VALUE for a vid that cannot be a volume of this pool
     */
    static String lvName(String pool, String vid) {
        if (vid == null || vid.isEmpty()) {
            throw CompartException.invalidValue("pool %s: empty volume id", pool);
        }
        String[] parts = vid.split("/", -1);
        for (String s : parts) {
            if (!SEGMENT.matcher(s).matches() || s.equals("..") || s.equals(".")) {
                throw CompartException.invalidValue("pool %s: volume id %s has a bad part '%s'", pool, vid, s);
            }
        }
        String name = String.join("+", parts);
        if (INTERNAL.matcher(name).matches()) {
            throw CompartException.invalidValue("pool %s: volume id %s may not end with -snap, -import or -N-back"
                    + " (names the pool uses for running copies, imports and revisions)", pool, vid);
        }
        if (name.length() > MAX_LV_NAME || name.startsWith("snapshot") || name.startsWith("pvmove")) {
            throw CompartException.invalidValue("pool %s: volume id %s is too long or uses a name LVM reserves", pool, vid);
        }
        return name;
    }

    static String vid(String lvName) {
        return lvName.replace('+', '/');
    }

    /** @return whether {@code lvName} is a committed image (or a running volatile volume), not a pool-internal LV */
    static boolean isVolume(String lvName) {
        return !INTERNAL.matcher(lvName).matches();
    }

    /** @return the revision ids of volume {@code name} among {@code lvNames}, oldest first */
    static List<String> revisions(String name, Collection<String> lvNames) {
        String prefix = name + "-";
        List<String> out = new ArrayList<>();
        for (String lv : lvNames) {
            if (lv.startsWith(prefix)) {
                Matcher m = REVISION.matcher(lv.substring(prefix.length()));
                if (m.matches()) {
                    out.add(m.group(0));
                }
            }
        }
        out.sort(Comparator.comparingLong(LvNames::seconds));
        return out;
    }

    static long seconds(String revisionId) {
        Matcher m = REVISION.matcher(revisionId);
        if (!m.matches()) {
            throw CompartException.invalidValue("%s is not a revision id (SECONDS-back)", revisionId);
        }
        return Long.parseLong(m.group(1));
    }

    static Instant timestamp(String revisionId) {
        return Instant.ofEpochSecond(seconds(revisionId));
    }

    /** @return a revision id after every existing one: the time now, or one second after the newest */
    static String nextRevision(Collection<String> existing, long nowSeconds) {
        long last = new TreeSet<>(existing.stream().map(LvNames::seconds).toList()).stream()
                .mapToLong(Long::longValue).max().orElse(0);
        return Math.max(nowSeconds, last + 1) + "-back";
    }

    static String revisionLv(String name, String revisionId) {
        seconds(revisionId);
        return name + "-" + revisionId;
    }
}
