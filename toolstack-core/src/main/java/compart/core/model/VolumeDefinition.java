package compart.core.model;

import compart.errors.CompartException;
import java.util.List;
import java.util.Objects;

/**
 * How one volume of a qube is configured (Qubes' {@code volume_config}): which pool holds it, whether it is a
 * snapshot of its source taken at start ({@code snap_on_start}), kept at stop ({@code save_on_stop}), writable.
 *
 * @param name            root, private, volatile or kernel
 * @param pool            the pool's name
 * @param vid             the volume's id inside its pool, e.g. {@code appvms/work/private}
 * @param size            size in bytes (0 when it follows its source)
 * @param rw              whether the qube may write it
 * @param snapOnStart     whether it is a snapshot of {@code source} made at each start
 * @param saveOnStop      whether changes are kept when the qube stops
 * @param source          the vid of the volume it snapshots, or empty
 * @param revisionsToKeep how many old revisions the pool keeps
 * @param ephemeral       whether its content is encrypted with a key thrown away at stop
 */
public record VolumeDefinition(String name, String pool, String vid, long size, boolean rw, boolean snapOnStart,
                           boolean saveOnStop, String source, int revisionsToKeep, boolean ephemeral) {
    /** Checks that names are present and the size is not negative. */
    public VolumeDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(vid, "vid");
        source = source == null ? "" : source;
        if (size < 0) {
            throw CompartException.invalidValue("volume %s: negative size %d", name, size);
        }
    }

    /** The order Qubes lists a qube's volumes in: as it defines them. */
    public static final List<String> ORDER = List.of("root", "private", "volatile", "kernel");

    /**
     * The four volumes Qubes gives a qube of {@code klass}, in {@code pool}.
     *
     * @param klass    the qube's class
     * @param name     the qube's name
     * @param template the template's name, for snapshot sources (AppVM: its TemplateVM; DispVM: its AppVM)
     * @param pool     the pool to put them in
     * @return root, private, volatile and kernel, in that order
     */
    public static List<VolumeDefinition> defaults(QubeClass klass, String name, String template, String pool) {
        long gib = 1024L * 1024 * 1024;
        String dir = klass == QubeClass.TemplateVM ? "vm-templates/" : "appvms/";
        var ownPrivate = new VolumeDefinition("private", pool, dir + name + "/private", 2 * gib, true, false, true, "",
                1, false);
        // Qubes R4.3's sizes: root 10 GiB, private 2 GiB, volatile as large as root (a disposable's: root + private).
        long root = 10 * gib;
        var volatileVolume = new VolumeDefinition("volatile", pool, dir + name + "/volatile",
                klass == QubeClass.DispVM ? root + 2 * gib : root, true, false, false, "", 0, false);
        var kernel = new VolumeDefinition("kernel", PoolDefinition.KERNEL_POOL, "", 0, false, false, false, "", 0,
                false);
        return switch (klass) {
            case AdminVM -> List.of();
            case TemplateVM, StandaloneVM -> List.of(
                    new VolumeDefinition("root", pool, dir + name + "/root", root, true, false, true, "", 1, false),
                    ownPrivate, volatileVolume, kernel);
            case AppVM -> List.of(
                    new VolumeDefinition("root", pool, dir + name + "/root", 0, true, true, false,
                            "vm-templates/" + template + "/root", 0, false),
                    ownPrivate, volatileVolume, kernel);
            case DispVM -> List.of( // dir is appvms/ here
                    new VolumeDefinition("root", pool, dir + name + "/root", 0, true, true, false, "", 0, false),
                    new VolumeDefinition("private", pool, dir + name + "/private", 0, true, true, false,
                            "appvms/" + template + "/private", 0, false),
                    volatileVolume, kernel);
        };
    }
}
