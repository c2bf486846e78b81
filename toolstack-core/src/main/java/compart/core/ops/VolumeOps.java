package compart.core.ops;

import compart.core.model.Inventory;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import compart.core.model.VolumeDefinition;
import compart.core.storage.QubeStorage;
import compart.core.storage.Storage;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.errors.Refusal;
import compart.volumes.Revision;
import compart.volumes.Volume;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The operations on a qube's volumes the Admin API offers ({@code admin.vm.volume.*}): each checks what the
 * volume allows, runs in the qube's queue where it touches the data (so it never overlaps a start or stop), and
 * records a change of size or flags in the inventory.
 *
 * <p>Thread safe (state lives in the {@link Toolstack}).
 */
public final class VolumeOps {
    private final Toolstack toolstack;

    /**
     * What {@code admin.vm.volume.Info} reports of a volume.
     *
     * @param definition the volume as the inventory has it
     * @param size       the size qubesd reports (a following snapshot has its source's)
     * @param usage      bytes in use (0 for a volume no pool manages)
     * @param outdated   whether a snapshot is older than its source
     * @param path       the image path ("" without a vid)
     * @param source     the vid it snapshots ("" unless snap_on_start)
     */
    public record Info(VolumeDefinition definition, long size, long usage, boolean outdated, String path,
                       String source) {
    }

    /** @param toolstack the qubes and their storage */
    public VolumeOps(Toolstack toolstack) {
        this.toolstack = toolstack;
    }

    /**
     * @return the volume's definition
     * @throws CompartException PERMISSION_DENIED when the qube has no such volume (Qubes' {@code Argument not in})
     */
    public static VolumeDefinition volume(Qube q, String untrustedName) {
        var v = q.volumes().get(untrustedName);
        if (v == null) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Argument not in '" + q.name() + " volumes'");
        }
        return v;
    }

    /** @return the volume's definition, refused (INVALID_VALUE) when it is not in a volume pool (a kernel) */
    public static VolumeDefinition managedVolume(Inventory inv, Qube q, String untrustedName) {
        var v = volume(q, untrustedName);
        if (!Storage.managed(inv, v)) {
            throw CompartException.invalidValue("volume %s:%s is provided by pool %s and cannot be changed",
                    q.name(), v.name(), v.pool());
        }
        return v;
    }

    /** @return what {@code admin.vm.volume.Info} reports */
    public Info volumeInfo(Inventory inv, Qube q, String volume) {
        var v = volume(q, volume);
        long usage = 0;
        boolean outdated = false;
        var storage = storageOf(inv, q);
        if (storage.managed(v)) {
            var vol = storage.volume(v.name());
            usage = vol.usage();
            outdated = vol.isOutdated();
        }
        return new Info(v, storage.reportedSize(v), usage, outdated, storage.volumePath(v),
                v.snapOnStart() ? sourceVid(storage, v) : "");
    }

    private static String sourceVid(QubeStorage storage, VolumeDefinition v) {
        try {
            return storage.configOf(v).source();
        } catch (CompartException e) {
            return v.source();
        }
    }

    /** @return the ids of the volume's revisions (none for a volume that keeps none) */
    public List<String> volumeRevisions(Inventory inv, Qube q, String volume) {
        var v = volume(q, volume);
        if (!Storage.managed(inv, v) || !v.saveOnStop()) {
            return List.of();
        }
        return storageOf(inv, q).volume(v.name()).revisions().stream().map(Revision::id).toList();
    }

    /**
     * Writes the volume's committed data to {@code out}, in the qube's queue (never during a start or stop).
     *
     * @throws CompartException PERMISSION_DENIED (no such volume), INVALID_VALUE (not in a volume pool)
     */
    public void exportVolume(String qube, String volume, OutputStream out) {
        var inv = toolstack.inventory();
        var v = managedVolume(inv, inv.qube(qube), volume);
        inQueue(qube, v.name(), "export", false, vol -> vol.exportData(out));
    }

    /** Reverts a halted qube's volume to a revision. */
    public void revertVolume(Inventory inv, Qube q, String volume, String revision) {
        var v = managedVolume(inv, q, volume);
        inQueue(q.name(), v.name(), "Cannot revert a volume of a running qube", true, vol -> vol.revert(revision));
    }

    /** Grows a volume (shrinking is refused) and records its new size. */
    public void resizeVolume(Inventory inv, Qube q, String volume, long size) {
        var v = managedVolume(inv, q, volume);
        if (size < v.size()) {
            throw new CompartException(ErrorKind.STORAGE, String.format("For your own safety, shrinking of %s is "
                    + "disabled (%d < %d). If you really know what you are doing, resize the filesystem first and use "
                    + "the pool's tools", v.name(), size, v.size())); // Qubes' drivers: StoragePoolException
        }
        inQueue(q.name(), v.name(), "resize", false, vol -> {
            vol.resize(size);
            recordSize(q.name(), v.name(), size);
        });
    }

    /**
     * The volume a persistent import writes: managed and {@code save_on_stop}.
     *
     * @return its definition
     */
    public static VolumeDefinition importTarget(Inventory inv, Qube q, String volume) {
        return persistent(inv, q, volume, "its data is made at each start, there is nothing to import into");
    }

    /**
     * Replaces a halted qube's volume with {@code size} bytes of {@code data}, all or nothing; a new size is
     * recorded.
     */
    public void importVolume(Inventory inv, Qube q, String volume, InputStream data, long size) {
        var v = importTarget(inv, q, volume);
        inQueue(q.name(), v.name(), "Cannot import into a volume of a running qube", true, vol -> {
            vol.importData(data, size);
            if (size != v.size()) {
                recordSize(q.name(), v.name(), size);
            }
        });
    }

    /** Fills a halted qube's persistent volume with zeros. */
    public void clearVolume(Inventory inv, Qube q, String volume) {
        var v = persistent(inv, q, volume, "it is made empty or anew at each start, there is nothing to clear");
        inQueue(q.name(), v.name(), "Cannot clear a volume of a running qube", true, vol -> {
            long size = vol.config().size();
            vol.importData(new Zeros(size), size);
        });
    }

    /**
     * Checks that a volume can be the source of a clone.
     *
     * @return its definition
     */
    public static VolumeDefinition cloneSource(Inventory inv, Qube q, String volume) {
        return persistent(inv, q, volume, "there is nothing to clone");
    }

    /** @return the managed volume, refused (INVALID_VALUE, saying {@code why}) unless it is save_on_stop */
    private static VolumeDefinition persistent(Inventory inv, Qube q, String volume, String why) {
        var v = managedVolume(inv, q, volume);
        if (!v.saveOnStop()) {
            throw CompartException.invalidValue("volume %s:%s is not persistent (save_on_stop=False): %s", q.name(),
                    v.name(), why);
        }
        return v;
    }

    /** Copies one qube's volume into a halted qube's volume, which grows to the source's size. */
    public void cloneVolume(String fromQube, String fromVolume, String toQube, String toVolume) {
        inQueue(toQube, toVolume, "Cannot clone into a volume of a running qube", true, to -> {
            var inv = toolstack.inventory();
            to.cloneFrom(storageOf(inv, inv.qube(fromQube)).volume(fromVolume));
            long size = to.config().size();
            toolstack.change(i -> {
                var cur = i.qube(toQube).volumes().get(toVolume);
                return size > cur.size() ? i.withQube(i.qube(toQube).withVolume(resized(cur, size))) : i;
            });
        });
    }

    /**
     * As qubesd's {@code vm.volume.Set.revisions_to_keep}: -1 (snapshots off) needs the qube and its disposables
     * halted.
     */
    public void setRevisionsToKeep(Inventory inv, Qube q, String volume, long keep) {
        var v = volume(q, volume);
        if (keep < -1 || keep > 1000) {
            throw CompartException.invalidValue("Invalid value for revisions_to_keep: %d (-1 .. 1000)", keep);
        }
        if (!storageOf(inv, q).checkRevisionsToKeep(v, keep)) {
            return;
        }
        String name = q.name();
        boolean snapshotsOnOff = keep != v.revisionsToKeep() && (keep == -1 || v.revisionsToKeep() == -1);
        toolstack.change(i -> {
            if (snapshotsOnOff) {
                for (var other : i.qubes().values()) {
                    boolean itsDisposable = other.klass() == QubeClass.DispVM && i.value(other, "template")
                            .orElse("").equals(name);
                    if ((other.name().equals(name) || itsDisposable) && toolstack.powerState(other.name())
                            != PowerState.Halted) {
                        throw Refusal.NOT_HALTED.exception("Cannot turn snapshots of %s:%s on or off while %s is "
                                + "running; shut it down first", name, v.name(), other.name());
                    }
                }
            }
            var cur = i.qube(name).volumes().get(v.name());
            return i.withQube(i.qube(name).withVolume(withFlags(cur, null, (int) keep, null)));
        });
    }

    /** Makes a halted qube's volume writable or read-only (a kernel is read-only). */
    public void setRw(Inventory inv, Qube q, String volume, boolean rw) {
        var v = volume(q, volume);
        storageOf(inv, q).checkRw(v, rw);
        String name = q.name();
        toolstack.changeWhileHalted(name, "Cannot change rw of a volume of a running qube",
                i -> i.withQube(i.qube(name).withVolume(withFlags(i.qube(name).volumes().get(v.name()), rw, null,
                        null)))).join();
    }

    /** Turns ephemeral off; turning it on is refused (the drivers cannot encrypt with a throw-away key). */
    public void setEphemeral(Inventory inv, Qube q, String volume, boolean ephemeral) {
        var v = volume(q, volume);
        String name = q.name();
        if (!ephemeral) {
            toolstack.change(i -> i.withQube(i.qube(name).withVolume(withFlags(i.qube(name).volumes()
                    .get(v.name()), null, null, false))));
            return;
        }
        storageOf(inv, q).checkEphemeral(v);
        if (v.snapOnStart() || v.saveOnStop() || q.klass() == QubeClass.AdminVM || !v.rw()) {
            throw CompartException.invalidValue("Cannot enable ephemeral on snap_on_start or save_on_stop or "
                    + "non-dom0 or not writable volume (%s:%s)", name, v.name());
        }
        throw Refusal.NOT_IMPLEMENTED.exception("Ephemeral volumes are not available in Compart: its volume "
                + "drivers cannot encrypt %s:%s with a throw-away key, so it stays as it is", name, v.name());
    }

    /**
     * Runs {@code work} on a qube's volume, bound in the inventory of that moment, in the qube's queue (never
     * during a start or stop); waits for it.
     */
    private void inQueue(String qube, String volume, String why, boolean whileHalted, Consumer<Volume> work) {
        toolstack.volumeOp(qube, why, whileHalted, () -> {
            var now = toolstack.inventory();
            work.accept(storageOf(now, now.qube(qube)).volume(volume));
            return null;
        }).join();
    }

    private QubeStorage storageOf(Inventory inv, Qube q) {
        return toolstack.storage().of(inv, q);
    }

    private void recordSize(String qube, String volume, long size) {
        toolstack.change(i -> i.withQube(i.qube(qube).withVolume(resized(i.qube(qube).volumes().get(volume),
                size))));
    }

    private static VolumeDefinition resized(VolumeDefinition v, long size) {
        return new VolumeDefinition(v.name(), v.pool(), v.vid(), size, v.rw(), v.snapOnStart(), v.saveOnStop(),
                v.source(), v.revisionsToKeep(), v.ephemeral());
    }

    /** @return {@code v} with the given fields changed (null: unchanged) */
    private static VolumeDefinition withFlags(VolumeDefinition v, Boolean rw, Integer revisionsToKeep,
                                              Boolean ephemeral) {
        return new VolumeDefinition(v.name(), v.pool(), v.vid(), v.size(), rw == null ? v.rw() : rw,
                v.snapOnStart(), v.saveOnStop(), v.source(),
                revisionsToKeep == null ? v.revisionsToKeep() : revisionsToKeep,
                ephemeral == null ? v.ephemeral() : ephemeral);
    }

    /** {@code size} zero bytes: what a cleared volume holds (the volume drivers keep zeros sparse). */
    private static final class Zeros extends InputStream {
        private long left;

        Zeros(long size) {
            left = size;
        }

        @Override
        public int read() {
            if (left == 0) {
                return -1;
            }
            left--;
            return 0;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (left == 0) {
                return len == 0 ? 0 : -1;
            }
            int n = (int) Math.min(len, left);
            Arrays.fill(b, off, off + n, (byte) 0);
            left -= n;
            return n;
        }
    }
}
