package compart.volumes.lvm;

import java.util.ArrayList;
import java.util.List;

/**
 * One {@code lvm} command line, built here and nowhere else. Volumes are named {@code VG/LV}; sizes are in bytes
 * ({@code B}), which LVM rounds up to whole extents of the volume group.
 *
 * @param argv the command and its arguments
 */
record LvmCommand(List<String> argv) {
    /** Tag of a staged {@code -import} volume that is complete and may be installed. */
    static final String STAGED_TAG = "compart_staged";

    LvmCommand {
        argv = List.copyOf(argv);
    }

    /** A new, empty thin volume in the pool. */
    static LvmCommand create(String lvm, String vg, String thinPool, String lv, long size) {
        return of(lvm, "lvcreate", "--thin", "--setactivationskip=n", "--activate=y", "--name=" + lv,
                "--virtualsize=" + size + "B", "--", vg + "/" + thinPool);
    }

    /** A thin snapshot of the thin volume {@code origin} (no size given: thin), active, maybe tagged. */
    static LvmCommand snapshot(String lvm, String vg, String origin, String lv, String tag) {
        List<String> a = new ArrayList<>(List.of(lvm, "lvcreate", "--snapshot", "--setactivationskip=n",
                "--activate=y", "--name=" + lv));
        if (tag != null) {
            a.add("--addtag=" + tag);
        }
        a.addAll(List.of("--", vg + "/" + origin));
        return new LvmCommand(a);
    }

    static LvmCommand rename(String lvm, String vg, String from, String to) {
        return of(lvm, "lvrename", "--", vg + "/" + from, vg + "/" + to);
    }

    static LvmCommand remove(String lvm, String vg, String lv) {
        return of(lvm, "lvremove", "--force", "--", vg + "/" + lv);
    }

    static LvmCommand extend(String lvm, String vg, String lv, long size) {
        return of(lvm, "lvextend", "--size=" + size + "B", "--", vg + "/" + lv);
    }

    static LvmCommand activate(String lvm, String vg, String lv) {
        return of(lvm, "lvchange", "--activate=y", "--", vg + "/" + lv);
    }

    static LvmCommand addTag(String lvm, String vg, String lv, String tag) {
        return of(lvm, "lvchange", "--addtag=" + tag, "--", vg + "/" + lv);
    }

    /** Lists the volumes of {@code vg} as JSON ({@link LvsReport}). */
    static LvmCommand list(String lvm, String vg) {
        return of(lvm, "lvs", "--reportformat=json", "--units=b", "--nosuffix", "-o", LvsReport.FIELDS, "--", vg);
    }

    private static LvmCommand of(String... argv) {
        return new LvmCommand(List.of(argv));
    }

    /** @return the action ({@code lvcreate}, {@code lvrename} …) */
    String action() {
        return argv.get(1);
    }

    @Override
    public String toString() {
        return String.join(" ", argv);
    }
}
