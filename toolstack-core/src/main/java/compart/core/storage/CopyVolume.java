package compart.core.storage;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.Revision;
import compart.volumes.Volume;
import compart.volumes.VolumeConfig;
import compart.xl.linux.Extent;
import compart.xl.linux.LinuxFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A volume of a {@link CopyPool}. Files of volume {@code v}: {@code v.img} (committed), {@code v-dirty.img}
 * (running copy), {@code v.img@NNNNNN} (revisions), {@code v.img.new} (staged), and temporaries containing
 * {@value #TMP_MARK}. Every file is written as a temporary, fsynced and renamed into place; a replacement of the
 * committed image is staged first and installed by renames, and {@link #repair()} (run before every change)
 * deletes temporaries and finishes a staged install, so a crash rolls back or forward and never loses committed
 * data. Copies keep holes: only the source's allocated extents (FIEMAP) are copied.
 */
final class CopyVolume implements Volume {
    static final String TMP_MARK = ".~tmp";

    private final CopyPool pool;
    private final String vid;
    private volatile VolumeConfig config;
    private final Path clean;
    private final Path dirty;
    private final Path staged;

    CopyVolume(CopyPool pool, String vid, VolumeConfig config) {
        this.pool = pool;
        this.vid = vid;
        this.config = config;
        this.clean = pool.dir().resolve(vid + ".img");
        this.dirty = pool.dir().resolve(vid + "-dirty.img");
        this.staged = pool.dir().resolve(vid + ".img.new");
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
        locked(() -> {
            repair();
            if (config.saveOnStop()) {
                if (Files.exists(clean)) {
                    throw new CompartException(ErrorKind.ALREADY_EXISTS, "volume " + vid + " exists already in pool "
                            + pool.config().name());
                }
                sparse(clean, config.size());
            }
        });
    }

    @Override
    public void remove() {
        locked(() -> {
            for (Path p : siblings(n -> n.contains(TMP_MARK))) {
                delete(p);
            }
            for (Revision r : revisions()) {
                delete(revisionPath(r.id()));
            }
            delete(staged);
            delete(dirty);
            delete(clean);
            for (Path d = clean.getParent(); !d.equals(pool.dir()); d = d.getParent()) {
                try (Stream<Path> s = Files.list(d)) {
                    if (s.findAny().isPresent()) {
                        break;
                    }
                    Files.delete(d);
                } catch (IOException e) {
                    break;
                }
            }
        });
    }

    @Override
    public void start() {
        locked(() -> {
            repair();
            VolumeConfig c = config;
            if (c.snapOnStart()) {
                Path source = pool.dir().resolve(c.source() + ".img");
                if (!Files.exists(source)) {
                    throw CompartException.notFound("cannot start volume %s: its source %s has no committed image in "
                            + "pool %s", vid, c.source(), pool.config().name());
                }
                pool.requireSpace("start " + vid, allocated(source));
                copy(source, dirty, c.size());
            } else if (c.saveOnStop()) {
                if (Files.exists(dirty)) {
                    return; // the last run did not stop cleanly: keep what the qube wrote
                }
                if (!Files.exists(clean)) {
                    throw CompartException.notFound("cannot start volume %s: it has no image in pool %s (create it "
                            + "first)", vid, pool.config().name());
                }
                pool.requireSpace("start " + vid, allocated(clean));
                copy(clean, dirty, c.size());
            } else {
                pool.requireSpace("start " + vid, 0);
                sparse(dirty, c.size());
            }
        });
    }

    @Override
    public void stop() {
        locked(() -> {
            repair();
            if (config.saveOnStop()) {
                if (Files.exists(dirty)) {
                    fsync(dirty);
                    rename(dirty, staged);
                    install();
                }
            } else {
                delete(dirty);
            }
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
            return Files.getLastModifiedTime(pool.dir().resolve(config.source() + ".img"))
                    .compareTo(Files.getLastModifiedTime(dirty)) > 0;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public List<Revision> revisions() {
        String prefix = clean.getFileName() + "@";
        var out = new ArrayList<Revision>();
        for (Path p : siblings(n -> n.startsWith(prefix) && !n.contains(TMP_MARK))) {
            try {
                out.add(new Revision(p.getFileName().toString().substring(prefix.length()),
                        Files.getLastModifiedTime(p).toInstant()));
            } catch (IOException e) {
                throw io("read revision " + p, e);
            }
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    @Override
    public void revert(String id) {
        locked(() -> {
            repair();
            requireStopped("revert");
            Path rev = revisionPath(id);
            if (!Files.exists(rev)) {
                throw CompartException.notFound("volume %s has no revision %s (it has %s)", vid, id,
                        revisions().stream().map(Revision::id).toList());
            }
            pool.requireSpace("revert " + vid, allocated(rev));
            copy(rev, staged, 0);
            install();
        });
    }

    @Override
    public void resize(long newSize) {
        locked(() -> {
            if (!config.rw()) {
                throw CompartException.invalidValue("cannot resize volume %s: it is read-only", vid);
            }
            if (newSize < config.size()) {
                throw CompartException.invalidValue("cannot shrink volume %s from %d to %d bytes: only growing is "
                        + "supported", vid, config.size(), newSize);
            }
            VolumeConfig resized = config.withSize(newSize);
            repair();
            if (Files.exists(dirty)) {
                grow(dirty, newSize);
            } else if (config.saveOnStop() && Files.exists(clean)) {
                grow(clean, newSize);
            }
            config = resized;
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
            Path tmp = tmp(staged);
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                byte[] buf = new byte[1 << 16];
                long done = 0;
                while (done < size) {
                    int n = data.read(buf, 0, (int) Math.min(buf.length, size - done));
                    if (n < 0) {
                        throw CompartException.invalidValue("import into %s: the data ended after %d of %d bytes", vid,
                                done, size);
                    }
                    if (!isZero(buf, n)) {
                        out.write(ByteBuffer.wrap(buf, 0, n), done);
                    }
                    done += n;
                }
                if (out.size() < size) {
                    try (var f = new java.io.RandomAccessFile(tmp.toFile(), "rw")) {
                        f.setLength(size);
                    }
                }
                out.force(true);
            } catch (IOException | RuntimeException e) {
                deleteQuietly(tmp);
                throw e instanceof CompartException ce ? ce : io("import into " + vid, e);
            }
            mkdirs(clean.getParent());
            rename(tmp, staged);
            install();
            config = resized;
        });
    }

    @Override
    public void exportData(OutputStream out) {
        try (InputStream in = Files.newInputStream(clean)) {
            in.transferTo(out);
        } catch (java.nio.file.NoSuchFileException e) {
            throw CompartException.notFound("volume %s has no committed image to export", vid);
        } catch (IOException e) {
            throw io("export " + vid, e);
        }
    }

    @Override
    public void cloneFrom(Volume source) {
        requireSaveOnStop("clone into");
        if (source instanceof CopyVolume cv) {
            locked(() -> {
                repair();
                requireStopped("clone into");
                if (!Files.exists(cv.clean)) {
                    throw CompartException.notFound("cannot clone %s into %s: the source has no committed image",
                            cv.vid, vid);
                }
                pool.requireSpace("clone " + cv.vid + " into " + vid, allocated(cv.clean));
                mkdirs(clean.getParent());
                copy(cv.clean, staged, 0);
                install();
                try {
                    config = config.withSize(Math.max(config.size(), Files.size(clean)));
                } catch (IOException e) {
                    throw io("size of " + clean, e);
                }
            });
            return;
        }
        var bytes = new java.io.ByteArrayOutputStream();
        source.exportData(bytes);
        importData(new java.io.ByteArrayInputStream(bytes.toByteArray()), bytes.size());
    }

    @Override
    public long usage() {
        Path p = Files.exists(dirty) ? dirty : clean;
        return Files.exists(p) ? allocated(p) : 0;
    }

    @Override
    public long size() {
        try {
            return Files.exists(dirty) ? Files.size(dirty) : Files.exists(clean) ? Files.size(clean) : config.size();
        } catch (IOException e) {
            throw io("size of " + vid, e);
        }
    }

    @Override
    public Path blockDevicePath() {
        return dirty;
    }

    @Override
    public String toString() {
        return "CopyVolume[" + pool.config().name() + ":" + vid + "]";
    }

    // ---- crash safety ----

    void repair() {
        for (Path p : siblings(n -> n.contains(TMP_MARK))) {
            delete(p);
        }
        if (Files.exists(staged)) {
            install();
        }
    }

    private void install() {
        int keep = config.revisionsToKeep() < 0 ? pool.defaultRevisions() : config.revisionsToKeep();
        if (keep > 0 && Files.exists(clean) && allocated(clean) > 0) {
            long max = 0;
            for (Revision r : revisions()) {
                try {
                    max = Math.max(max, Long.parseLong(r.id()));
                } catch (NumberFormatException ignored) {
                    // not ours: ours still sort after it
                }
            }
            rename(clean, revisionPath(String.format("%06d", max + 1)));
        }
        rename(staged, clean);
        List<Revision> revs = revisions();
        for (int i = 0; i < revs.size() - keep; i++) {
            delete(revisionPath(revs.get(i).id()));
        }
    }

    private Path revisionPath(String id) {
        if (id.isEmpty() || id.contains("/") || id.contains(TMP_MARK)) {
            throw CompartException.invalidValue("bad revision id %s for volume %s", id, vid);
        }
        return clean.resolveSibling(clean.getFileName() + "@" + id);
    }

    // ---- files ----

    private List<Path> siblings(java.util.function.Predicate<String> name) {
        String a = clean.getFileName().toString();
        String b = dirty.getFileName().toString();
        try (Stream<Path> s = Files.list(clean.getParent())) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return (n.startsWith(a) || n.startsWith(b)) && name.test(n);
            }).toList();
        } catch (java.nio.file.NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw io("list files of " + vid, e);
        }
    }

    private static Path tmp(Path target) {
        return target.resolveSibling(target.getFileName() + TMP_MARK + System.nanoTime());
    }

    private void sparse(Path target, long size) {
        mkdirs(target.getParent());
        Path tmp = tmp(target);
        try (var f = new java.io.RandomAccessFile(tmp.toFile(), "rw")) {
            f.setLength(size);
            f.getFD().sync();
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw io("create sparse image " + target, e);
        }
        rename(tmp, target);
    }

    /** Replaces {@code target} by a copy of {@code source} (its allocated extents only), grown to {@code minSize}. */
    private void copy(Path source, Path target, long minSize) {
        mkdirs(target.getParent());
        Path tmp = tmp(target);
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long size = in.size();
            List<Extent> extents;
            try (LinuxFile f = LinuxFile.open(source, LinuxFile.Mode.READ)) {
                extents = f.extents();
            }
            for (Extent e : extents) {
                long from = e.logical();
                long end = Math.min(e.end(), size);
                while (from < end) {
                    from += in.transferTo(from, end - from, out.position(from));
                }
            }
            long length = Math.max(size, minSize);
            if (out.size() < length) {
                try (var f = new java.io.RandomAccessFile(tmp.toFile(), "rw")) {
                    f.setLength(length);
                }
            }
            out.force(true);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp);
            throw e instanceof CompartException ce ? ce : io("copy " + source + " to " + target, e);
        }
        rename(tmp, target);
    }

    private static long allocated(Path p) {
        try (LinuxFile f = LinuxFile.open(p, LinuxFile.Mode.READ)) {
            return f.extents().stream().mapToLong(Extent::length).sum();
        }
    }

    private static void grow(Path file, long size) {
        try (var f = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            if (f.length() < size) {
                f.setLength(size);
            }
            f.getFD().sync();
        } catch (IOException e) {
            throw io("grow " + file, e);
        }
    }

    private static void fsync(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        } catch (IOException e) {
            throw io("fsync " + file, e);
        }
    }

    private static void rename(Path from, Path to) {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw io("rename " + from + " to " + to, e);
        }
        LinuxFile.fsyncDirectory(to.getParent());
    }

    private static void delete(Path file) {
        try {
            if (Files.deleteIfExists(file)) {
                LinuxFile.fsyncDirectory(file.getParent());
            }
        } catch (IOException e) {
            throw io("delete " + file, e);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // best effort: repair() removes temporaries later
        }
    }

    private static void mkdirs(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw io("create directory " + dir, e);
        }
    }

    private static boolean isZero(byte[] b, int n) {
        for (int i = 0; i < n; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static CompartException io(String what, Exception e) {
        return new CompartException(ErrorKind.STORAGE, "cannot " + what + ": " + e.getMessage(), e);
    }

    private void requireStopped(String what) {
        if (Files.exists(dirty)) {
            throw CompartException.invalidState("cannot %s volume %s: it is in use by a running qube (stop it first)",
                    what, vid);
        }
    }

    private void requireSaveOnStop(String what) {
        if (!config.saveOnStop()) {
            throw CompartException.invalidState("cannot %s volume %s: it is not save_on_stop (its data is not kept)",
                    what, vid);
        }
    }

    private void locked(Runnable body) {
        var lock = pool.lockFor(vid);
        lock.lock();
        try {
            body.run();
        } finally {
            lock.unlock();
        }
    }
}
