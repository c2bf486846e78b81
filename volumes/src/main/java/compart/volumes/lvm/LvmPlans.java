package compart.volumes.lvm;

import compart.errors.CompartException;
import compart.volumes.VolumeConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The state rules of {@code lvm_thin} volumes: what each operation does, as {@code lvm} commands computed from
 * the volumes that exist now. Pure functions, so each rule is unit tested; {@link LvmThinVolume} runs the result.
 *
 * <p>Crash safety: every {@code lvm} command is one atomic metadata commit, and whatever replaces a committed
 * image (a stop's commit, revert, import, clone) is first a staged {@code NAME-import} that is tagged
 * {@value LvmCommand#STAGED_TAG} once complete, then installed by renames. {@link #repair} installs a tagged
 * stage and removes an untagged one, so a crash between any two commands rolls forward or back.
 *
 * @param lvm      the lvm command
 * @param vg       the volume group
 * @param thinPool the thin pool's LV name
 */
record LvmPlans(String lvm, String vg, String thinPool) {

    /** Installs a complete staged image left by a crash, or removes an incomplete one. */
    List<LvmCommand> repair(String name, Map<String, LogicalVolume> lvs, int keep, long nowSeconds) {
        LogicalVolume staged = lvs.get(name + LvNames.IMPORT);
        if (staged == null) {
            return List.of();
        }
        if (staged.tags().contains(LvmCommand.STAGED_TAG)) {
            return install(name, lvs, keep, nowSeconds);
        }
        return List.of(LvmCommand.remove(lvm, vg, staged.name()));
    }

    /**
     * Makes the staged {@code NAME-import} the committed image: the committed one becomes the newest revision
     * (or is removed when no revision is kept, or when it holds no data: a just-created volume's empty image is
     * no state worth going back to) and revisions beyond {@code keep} are removed, oldest first.
     */
    List<LvmCommand> install(String name, Map<String, LogicalVolume> lvs, int keep, long nowSeconds) {
        List<LvmCommand> out = new ArrayList<>();
        List<String> revisions = new ArrayList<>(LvNames.revisions(name, lvs.keySet()));
        LogicalVolume committed = lvs.get(name);
        if (committed != null) {
            if (keep > 0 && committed.dataPercent() > 0) {
                String rev = LvNames.nextRevision(revisions, nowSeconds);
                out.add(LvmCommand.rename(lvm, vg, name, LvNames.revisionLv(name, rev)));
                revisions.add(rev);
            } else {
                out.add(LvmCommand.remove(lvm, vg, name));
            }
        }
        out.add(LvmCommand.rename(lvm, vg, name + LvNames.IMPORT, name));
        for (int i = 0; i < revisions.size() - keep; i++) {
            out.add(LvmCommand.remove(lvm, vg, LvNames.revisionLv(name, revisions.get(i))));
        }
        return out;
    }

    /**
     * Start: a fresh snapshot of the source ({@code snap_on_start}), a snapshot of the committed image
     * ({@code save_on_stop}; a running copy left by a crashed run is kept, as Qubes does), or an empty volume.
     *
     * @param sourceName the source's LV name, for {@code snap_on_start}
     */
    List<LvmCommand> start(String vid, String name, VolumeConfig c, String sourceName, Map<String, LogicalVolume> lvs) {
        List<LvmCommand> out = new ArrayList<>();
        String snap = name + LvNames.SNAP;
        if (c.snapOnStart()) {
            LogicalVolume source = lvs.get(sourceName);
            if (source == null) {
                throw CompartException.notFound("cannot start volume %s: its source %s has no committed image in"
                        + " thin pool %s/%s", vid, c.source(), vg, thinPool);
            }
            if (lvs.containsKey(snap)) {
                out.add(LvmCommand.remove(lvm, vg, snap));
            }
            out.add(LvmCommand.snapshot(lvm, vg, sourceName, snap, null));
            if (c.size() > source.size()) {
                out.add(LvmCommand.extend(lvm, vg, snap, c.size()));
            }
        } else if (c.saveOnStop()) {
            if (lvs.containsKey(snap)) {
                return List.of();
            }
            LogicalVolume committed = lvs.get(name);
            if (committed == null) {
                throw CompartException.notFound("cannot start volume %s: it has no image in thin pool %s/%s"
                        + " (create it first)", vid, vg, thinPool);
            }
            out.add(LvmCommand.snapshot(lvm, vg, name, snap, null));
            if (c.size() > committed.size()) {
                out.add(LvmCommand.extend(lvm, vg, snap, c.size()));
            }
        } else {
            if (lvs.containsKey(name)) {
                out.add(LvmCommand.remove(lvm, vg, name));
            }
            out.add(LvmCommand.create(lvm, vg, thinPool, name, c.size()));
        }
        return out;
    }

    /** Stop: commits the running copy ({@code save_on_stop}) or discards it. Nothing to do when not running. */
    List<LvmCommand> stop(String name, VolumeConfig c, Map<String, LogicalVolume> lvs, int keep, long nowSeconds) {
        String snap = name + LvNames.SNAP;
        if (c.saveOnStop()) {
            if (!lvs.containsKey(snap)) {
                return List.of();
            }
            List<LvmCommand> out = new ArrayList<>();
            out.add(LvmCommand.addTag(lvm, vg, snap, LvmCommand.STAGED_TAG));
            out.add(LvmCommand.rename(lvm, vg, snap, name + LvNames.IMPORT));
            out.addAll(install(name, lvs, keep, nowSeconds));
            return out;
        }
        if (c.snapOnStart()) {
            return lvs.containsKey(snap) ? List.of(LvmCommand.remove(lvm, vg, snap)) : List.of();
        }
        return lvs.containsKey(name) ? List.of(LvmCommand.remove(lvm, vg, name)) : List.of();
    }

    /** Revert (the volume is stopped): a snapshot of the revision is staged and installed. */
    List<LvmCommand> revert(String vid, String name, String revisionId, Map<String, LogicalVolume> lvs, int keep,
                            long nowSeconds) {
        List<String> revisions = LvNames.revisions(name, lvs.keySet());
        if (!revisions.contains(revisionId)) {
            throw CompartException.notFound("volume %s has no revision %s (it has %s)", vid, revisionId, revisions);
        }
        String rev = LvNames.revisionLv(name, revisionId);
        List<LvmCommand> out = new ArrayList<>();
        out.add(LvmCommand.snapshot(lvm, vg, rev, name + LvNames.IMPORT, LvmCommand.STAGED_TAG));
        out.addAll(install(name, lvs, keep, nowSeconds));
        return out;
    }

    /** Clone from a volume of the same thin pool: a snapshot of its committed image is staged and installed. */
    List<LvmCommand> cloneFrom(String sourceName, String name, Map<String, LogicalVolume> lvs, int keep, long nowSeconds) {
        List<LvmCommand> out = new ArrayList<>();
        out.add(LvmCommand.snapshot(lvm, vg, sourceName, name + LvNames.IMPORT, LvmCommand.STAGED_TAG));
        out.addAll(install(name, lvs, keep, nowSeconds));
        return out;
    }

    /** Grow: the running copy when there is one, else the committed image of a persistent volume. */
    List<LvmCommand> resize(String name, VolumeConfig c, long newSize, Map<String, LogicalVolume> lvs) {
        LogicalVolume v = lvs.get(name + LvNames.SNAP);
        if (v == null && !c.snapOnStart()) {
            v = lvs.get(name); // a running volatile volume, or a persistent volume's committed image
        }
        if (v == null || v.size() >= newSize) {
            return List.of();
        }
        return List.of(LvmCommand.extend(lvm, vg, v.name(), newSize));
    }

    /** Remove: the running copy, a staged image, the revisions and the committed image. */
    List<LvmCommand> remove(String name, Map<String, LogicalVolume> lvs) {
        List<LvmCommand> out = new ArrayList<>();
        for (String lv : List.of(name + LvNames.SNAP, name + LvNames.IMPORT)) {
            if (lvs.containsKey(lv)) {
                out.add(LvmCommand.remove(lvm, vg, lv));
            }
        }
        for (String rev : LvNames.revisions(name, lvs.keySet())) {
            out.add(LvmCommand.remove(lvm, vg, LvNames.revisionLv(name, rev)));
        }
        if (lvs.containsKey(name)) {
            out.add(LvmCommand.remove(lvm, vg, name));
        }
        return out;
    }

    /** @return whether a running snapshot's source was committed since: its origin is no longer the source */
    static boolean isOutdated(String name, VolumeConfig c, String sourceName, Map<String, LogicalVolume> lvs) {
        LogicalVolume snap = lvs.get(name + LvNames.SNAP);
        return c.snapOnStart() && snap != null && !snap.origin().equals(sourceName);
    }

    /** @return whether the volume is started */
    static boolean isRunning(String name, VolumeConfig c, Map<String, LogicalVolume> lvs) {
        return lvs.containsKey(c.snapOnStart() || c.saveOnStop() ? name + LvNames.SNAP : name);
    }
}
