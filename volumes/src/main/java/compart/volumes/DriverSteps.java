package compart.volumes;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.util.function.BiFunction;

/**
 * Steps every pool driver takes the same way, written once: keeping a pool's reserve free before an operation
 * allocates, and cloning a volume by streaming its data when the pool cannot share blocks with the source. For
 * drivers; callers use {@link Volume}.
 *
 * <p>Thread safe (stateless).
 */
public final class DriverSteps {
    private DriverSteps() {
    }

    /**
     * Refuses an operation that would leave less than the pool's reserve free.
     *
     * @param pool      the pool, whose {@link Pool#usage()} is read
     * @param what      the operation, for the message ({@code start appvms/work/private})
     * @param bytes     bytes the operation allocates at once
     * @param where     where the space is, appended to "free" in the message ({@code ""},
     *                  {@code " in thin pool vg/tp"})
     * @param howToGrow what to grow, for the message ({@code grow the pool})
     * @throws CompartException STORAGE, saying how much is needed and free and what to do
     */
    public static void requireSpace(Pool pool, String what, long bytes, String where, String howToGrow) {
        PoolUsage u = pool.usage();
        if (u.free() - bytes < u.reserve()) {
            throw new CompartException(ErrorKind.STORAGE, String.format(
                    "pool %s is too full to %s: it needs %s plus its reserve of %s (%d%% of %s) free%s, but only %s is"
                            + " free; remove old revisions or unused qubes, %s, or lower reserve_percent",
                    pool.config().name(), what, human(bytes), human(u.reserve()), pool.reservePercent(),
                    human(u.size()), where, human(u.free()), howToGrow));
        }
    }

    /**
     * Checks a resize: only a writable volume grows.
     *
     * @return the volume's config with {@code newSize}
     * @throws CompartException INVALID_VALUE for a read-only volume, a smaller or malformed size
     */
    public static VolumeConfig grown(String vid, VolumeConfig config, long newSize) {
        if (!config.rw()) {
            throw CompartException.invalidValue("cannot resize volume %s: it is read-only", vid);
        }
        if (newSize < config.size()) {
            throw CompartException.invalidValue("cannot shrink volume %s from %d to %d bytes: shrinking would cut"
                    + " off data; only growing is supported", vid, config.size(), newSize);
        }
        return config.withSize(newSize);
    }

    /**
     * @param what the operation, for the message ({@code revert})
     * @throws CompartException INVALID_STATE when the volume is {@code running}
     */
    public static void requireStopped(boolean running, String what, String vid) {
        if (running) {
            throw CompartException.invalidState("cannot %s volume %s: it is in use by a running qube (stop it first)",
                    what, vid);
        }
    }

    /**
     * @param what the operation, for the message ({@code clone into})
     * @throws CompartException INVALID_STATE unless the volume is {@code save_on_stop}
     */
    public static void requireSaveOnStop(VolumeConfig config, String what, String vid) {
        if (!config.saveOnStop()) {
            throw CompartException.invalidState("cannot %s volume %s: it is not save_on_stop (its data is not kept)",
                    what, vid);
        }
    }

    /** @return {@code bytes} for a person: {@code 512 B}, {@code 4.0 MiB} */
    public static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int i = -1;
        while (v >= 1024 && i < units.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format("%.1f %s", v, units[i]);
    }

    /**
     * Replaces {@code target}'s committed image with {@code source}'s by streaming it: the source exports on a
     * platform thread into a pipe the target imports from. The fallback of {@link Volume#cloneFrom(Volume)} when the
     * pool cannot share blocks with the source.
     *
     * @param failure makes the driver's error from the operation ({@code clone SRC into DST}) and the cause
     */
    public static void cloneByStream(Volume source, Volume target,
                                     BiFunction<String, Exception, CompartException> failure) {
        long size = source.size();
        String what = "clone " + source.vid() + " into " + target.vid();
        try (PipedInputStream in = new PipedInputStream(1 << 20); PipedOutputStream out = new PipedOutputStream(in)) {
            Thread writer = Thread.ofPlatform().name("export-" + source.vid()).start(() -> {
                try (out) {
                    source.exportData(out);
                } catch (IOException | RuntimeException ignored) {
                    // the reader sees the stream end early and reports it
                }
            });
            target.importData(in, size);
            writer.join();
        } catch (IOException e) {
            throw failure.apply(what, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure.apply(what, e);
        }
    }
}
