package compart.volumes.reflink;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.DriverSteps;
import compart.volumes.Revision;
import compart.volumes.Volume;
import compart.volumes.VolumeConfig;
import compart.xl.linux.Extent;
import compart.xl.linux.LinuxFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * A volume of a {@code file-reflink} pool.
 *
 * <p>Design (crash safety). Files of volume {@code v}: {@code v.img} (committed), {@code v-dirty.img} (working copy
 * while started), {@code v.img@NNNNNN} (revisions), {@code v.img.new} (staged) and temporaries containing
 * {@code ~}. Every new file is built as a temporary, fsynced and renamed into place, so a file under a final name
 * is always complete. Whatever replaces the committed image (a stop's commit, revert, import, clone) is first
 * made the staged image, then installed: the committed image is renamed to the next revision, the staged image
 * renamed to the committed one, and old revisions pruned. Each of these renames is atomic, and
 * {@link #repair()} — run first by every changing operation — removes temporaries and finishes an install whose
 * staged image exists. A crash therefore either rolls back (nothing staged yet) or rolls forward (staged), and
 * the committed image and revisions are never lost.
 *
 * <p>On a pool that cannot reflink ({@code setup_check=no}) every clone is a sparse copy made by the same steps,
 * and the capacity checks count the bytes it copies. A snapshot volume's frozen source image ({@code v.img}) is
 * then a hard link to the source's committed image instead of a clone: a committed image is replaced by rename, never
 * rewritten in place (a resize only grows it), so the link keeps the content of the moment it was made, for no
 * copy, and the snapshot is outdated exactly when the source's committed image is another file.
 */
final class ReflinkVolume implements Volume {
    private final ReflinkPool pool;
    private final String vid;
    private volatile VolumeConfig config;
    private final Path clean;
    private final Path dirty;
    private final Path staged;
    private final DurableFiles files;

    ReflinkVolume(ReflinkPool pool, String vid, VolumeConfig config) {
        this.pool = pool;
        this.vid = vid;
        this.config = Objects.requireNonNull(config, "config");
        this.clean = ImageNames.committed(pool.dir(), vid);
        this.dirty = ImageNames.working(pool.dir(), vid);
        this.staged = ImageNames.staged(pool.dir(), vid);
        this.files = pool.files();
    }

    @Override
    public String vid() {
        return vid;
    }

    @Override
    public VolumeConfig config() {
        return config;
    }

    @Override
    public void create() {
        lockedAndRepaired(() -> {
            if (config.saveOnStop()) {
                if (Files.exists(clean)) {
                    throw new CompartException(ErrorKind.ALREADY_EXISTS,
                            "volume " + vid + " exists already in pool " + pool.config().name());
                }
                newEmptyImage("create", clean, config.size());
            }
            return null;
        });
    }

    /** Makes {@code image} as a sparse file of {@code size} bytes, for {@code operation} (named if the pool is full). */
    private void newEmptyImage(String operation, Path image, long size) {
        pool.requireSpace(operation + " " + vid, 0);
        files.mkdirs(image.getParent());
        files.createSparse(image, size);
    }

    @Override
    public void remove() {
        locked(() -> {
            for (Path p : temporaries()) {
                files.delete(p);
            }
            for (Revision r : revisions()) {
                files.delete(revisionPath(r.id()));
            }
            files.delete(staged);
            files.delete(dirty);
            files.delete(clean);
            for (Path d = clean.getParent(); !d.equals(pool.dir()); d = d.getParent()) {
                try (Stream<Path> s = Files.list(d)) {
                    if (s.findAny().isPresent()) {
                        break;
                    }
                } catch (IOException e) {
                    break;
                }
                files.delete(d);
            }
            return null;
        });
    }

    @Override
    public void start() {
        lockedAndRepaired(() -> {
            VolumeConfig c = config;
            if (c.snapOnStart()) {
                Path source = ImageNames.committed(pool.dir(), c.source());
                if (!Files.exists(source)) {
                    throw CompartException.notFound("cannot start volume %s: its source %s has no committed image in pool %s",
                            vid, c.source(), pool.config().name());
                }
                pool.requireSpace("start " + vid, files.bytesToCopy(source));
                files.mkdirs(clean.getParent());
                files.snapshotTo(source, clean);
                files.cloneTo(clean, dirty, c.size());
            } else if (c.saveOnStop()) {
                if (Files.exists(dirty)) {
                    return null; // the last run did not stop cleanly: keep what the qube wrote (Qubes does the same)
                }
                if (!Files.exists(clean)) {
                    throw CompartException.notFound("cannot start volume %s: it has no image in pool %s (create it first)",
                            vid, pool.config().name());
                }
                pool.requireSpace("start " + vid, files.bytesToCopy(clean));
                files.cloneTo(clean, dirty, c.size());
            } else {
                newEmptyImage("start", dirty, c.size());
            }
            return null;
        });
    }

    @Override
    public void stop() {
        lockedAndRepaired(() -> {
            if (config.saveOnStop()) {
                if (Files.exists(dirty)) {
                    files.fsync(dirty);
                    files.rename(dirty, staged);
                    installStaged();
                }
            } else {
                files.delete(dirty);
                if (config.snapOnStart()) {
                    files.delete(clean);
                }
            }
            return null;
        });
    }

    @Override
    public boolean isRunning() {
        return Files.exists(dirty);
    }

    @Override
    public boolean isOutdated() {
        if (!config.snapOnStart()) {
            return false;
        }
        try {
            Path source = ImageNames.committed(pool.dir(), config.source());
            if (!files.reflinks()) {
                return !Files.isSameFile(source, clean);
            }
            return Files.getLastModifiedTime(source).compareTo(Files.getLastModifiedTime(clean)) > 0;
        } catch (IOException e) {
            return false; // not started, or the source is gone
        }
    }

    @Override
    public List<Revision> revisions() {
        String prefix = ImageNames.revisionPrefix(clean);
        try (Stream<Path> s = Files.list(clean.getParent())) {
            List<Revision> out = new ArrayList<>();
            for (Path p : (Iterable<Path>) s::iterator) {
                String n = p.getFileName().toString();
                if (n.startsWith(prefix) && !DurableFiles.isTemporary(p)) {
                    out.add(new Revision(n.substring(prefix.length()), Files.getLastModifiedTime(p).toInstant()));
                }
            }
            out.sort(Comparator.naturalOrder());
            return out;
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw DurableFiles.io("list revisions of " + vid, e);
        }
    }

    @Override
    public void revert(String id) {
        lockedAndRepaired(() -> {
            requireStopped("revert");
            Path rev = revisionPath(id);
            if (!Files.exists(rev) || DurableFiles.isTemporary(rev)) {
                throw CompartException.notFound("volume %s has no revision %s (it has %s)", vid, id,
                        revisions().stream().map(Revision::id).toList());
            }
            pool.requireSpace("revert " + vid, files.bytesToCopy(rev));
            files.cloneTo(rev, staged, 0);
            installStaged();
            return null;
        });
    }

    @Override
    public void resize(long newSize) {
        locked(() -> {
            VolumeConfig c = config;
            VolumeConfig resized = DriverSteps.grown(vid, c, newSize); // validates the size
            repair();
            pool.requireSpace("resize " + vid, 0);
            if (Files.exists(dirty)) {
                files.grow(dirty, newSize);
            } else if (c.saveOnStop() && Files.exists(clean)) {
                files.grow(clean, newSize);
            }
            config = resized;
            return null;
        });
    }

    @Override
    public void importData(InputStream data, long size) {
        locked(() -> {
            requireSaveOnStop("import data into");
            VolumeConfig resized = config.withSize(size);
            repair();
            requireStopped("import data into");
            pool.requireSpace("import " + size + " bytes into " + vid, size);
            files.mkdirs(clean.getParent());
            files.write(data, size, staged);
            installStaged();
            config = resized;
            return null;
        });
    }

    @Override
    public void exportData(OutputStream out) {
        requireSaveOnStop("export");
        try (InputStream in = Files.newInputStream(clean)) {
            in.transferTo(out);
        } catch (NoSuchFileException e) {
            throw CompartException.notFound("volume %s has no committed image to export", vid);
        } catch (IOException e) {
            throw DurableFiles.io("export " + vid, e);
        }
    }

    @Override
    public void cloneFrom(Volume source) {
        requireSaveOnStop("clone into");
        if (source instanceof ReflinkVolume rv && sameFileSystem(rv)) {
            lockedAndRepaired(() -> {
                requireStopped("clone into");
                if (!Files.exists(rv.clean)) {
                    throw CompartException.notFound("cannot clone %s into %s: the source has no committed image", rv.vid, vid);
                }
                pool.requireSpace("clone " + rv.vid + " into " + vid, files.bytesToCopy(rv.clean));
                files.mkdirs(clean.getParent());
                files.cloneTo(rv.clean, staged, 0);
                installStaged();
                try {
                    config = config.withSize(Math.max(config.size(), Files.size(clean)));
                } catch (IOException e) {
                    throw DurableFiles.io("size of " + clean, e);
                }
                return null;
            });
            return;
        }
        DriverSteps.cloneByStream(source, this, DurableFiles::io);
    }

    @Override
    public long usage() {
        Path p = Files.exists(dirty) ? dirty : clean;
        if (!Files.exists(p)) {
            return 0;
        }
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ)) {
            return f.extents().stream().mapToLong(Extent::length).sum();
        }
    }

    @Override
    public long size() {
        try {
            if (Files.exists(dirty)) {
                return Files.size(dirty);
            }
            if (Files.exists(clean)) {
                return Files.size(clean);
            }
        } catch (IOException e) {
            throw DurableFiles.io("size of " + vid, e);
        }
        return config.size();
    }

    @Override
    public Path blockDevicePath() {
        return dirty;
    }

    @Override
    public String toString() {
        return "ReflinkVolume[" + pool.config().name() + ":" + vid + "]";
    }

    // ---- crash safety ----

    /** Removes temporaries and finishes an install whose staged image is complete. */
    void repair() {
        for (Path p : temporaries()) {
            files.delete(p);
        }
        if (Files.exists(staged)) {
            installStaged();
        }
    }

    /** Makes the staged image the committed one, keeping the old one as the newest revision. */
    private void installStaged() {
        int keep = revisionsToKeep();
        if (keep > 0 && Files.exists(clean) && allocated(clean)) {
            files.rename(clean, revisionPath(nextRevisionId()));
        }
        files.rename(staged, clean);
        List<Revision> revs = revisions();
        for (int i = 0; i < revs.size() - keep; i++) {
            files.delete(revisionPath(revs.get(i).id()));
        }
        pool.committed();
    }

    private static boolean allocated(Path p) {
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ)) {
            return !f.extents().isEmpty();
        }
    }

    private int revisionsToKeep() {
        int k = config.revisionsToKeep();
        return k < 0 ? pool.defaultRevisionsToKeep() : k;
    }

    private String nextRevisionId() {
        long max = 0;
        for (Revision r : revisions()) {
            try {
                max = Math.max(max, Long.parseLong(r.id()));
            } catch (NumberFormatException ignored) {
                // a revision not named by us: ids still sort after it
            }
        }
        return String.format("%06d", max + 1);
    }

    private Path revisionPath(String id) {
        if (id.chars().anyMatch(c -> c < 0x20 || c >= 0x7f)) { // not a file name: NUL, control or non-ASCII
            throw CompartException.notFound("volume %s has no revision of that id (it has %s)", vid,
                    revisions().stream().map(Revision::id).toList());
        }
        if (id.isEmpty() || id.contains("/") || id.indexOf(DurableFiles.TMP_MARK) >= 0) {
            throw CompartException.invalidValue("bad revision id %s for volume %s", id, vid);
        }
        return ImageNames.revision(clean, id);
    }

    private List<Path> temporaries() {
        String base = clean.getFileName().toString();
        String base2 = dirty.getFileName().toString();
        try (Stream<Path> s = Files.list(clean.getParent())) {
            return s.filter(DurableFiles::isTemporary).filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(base) || n.startsWith(base2);
            }).toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw DurableFiles.io("list files of " + vid, e);
        }
    }

    private boolean sameFileSystem(ReflinkVolume other) {
        try {
            return Files.getFileStore(pool.dir()).equals(Files.getFileStore(other.pool.dir()));
        } catch (IOException e) {
            return false;
        }
    }

    private void requireStopped(String what) {
        DriverSteps.requireStopped(Files.exists(dirty), what, vid);
    }

    private void requireSaveOnStop(String what) {
        DriverSteps.requireSaveOnStop(config, what, vid);
    }

    private <T> T locked(Supplier<T> body) {
        try (var busy = pool.busy(); var held = pool.lock(vid)) {
            return body.get();
        }
    }

    /** {@link #locked}, after {@link #repair}: what an interrupted operation left is cleaned up or finished first. */
    private <T> T lockedAndRepaired(Supplier<T> body) {
        return locked(() -> {
            repair();
            return body.get();
        });
    }
}
