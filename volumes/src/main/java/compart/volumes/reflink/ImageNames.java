package compart.volumes.reflink;

import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The names of a {@code file-reflink} pool's files, in one place. Volume {@code appvms/work/private} of a pool in
 * directory {@code D} is the committed image {@code D/appvms/work/private.img}, the working copy of a started
 * qube {@code private-dirty.img}, revisions {@code private.img@000001} …, a fully written image waiting to be
 * committed {@code private.img.new}; temporaries of any of them contain {@link DurableFiles#TMP_MARK}.
 *
 * <p>Public for {@link compart.volumes.VolumeLocks#ownerOf} only (the package is not exported).
 */
public final class ImageNames {
    private static final String IMAGE = ".img";
    private static final String DIRTY = "-dirty";
    private static final String REVISION = "@";
    private static final String STAGED = ".new";
    /** Any file of a volume: committed, working, staged or a revision, each maybe a temporary; group 1 is the name. */
    private static final Pattern ANY_FILE = Pattern.compile("(.+?)(?:" + Pattern.quote(DIRTY + IMAGE) + "|"
            + Pattern.quote(IMAGE) + "(?:" + Pattern.quote(STAGED) + "|" + Pattern.quote(REVISION) + "[^/"
            + DurableFiles.TMP_MARK + "]*)?)(?:" + DurableFiles.TMP_MARK + ".*)?");

    private ImageNames() {
    }

    /** @return the committed image of volume {@code vid} in pool directory {@code dir} */
    static Path committed(Path dir, String vid) {
        return dir.resolve(vid + IMAGE);
    }

    /** @return the working copy of volume {@code vid} while it is started: its block device */
    static Path working(Path dir, String vid) {
        return dir.resolve(vid + DIRTY + IMAGE);
    }

    /** @return the staged image of volume {@code vid}: a complete image about to become the committed one */
    static Path staged(Path dir, String vid) {
        return dir.resolve(vid + IMAGE + STAGED);
    }

    /** @return the file name prefix of the revisions of the volume whose committed image is {@code committed} */
    static String revisionPrefix(Path committed) {
        return committed.getFileName() + REVISION;
    }

    /** @return revision {@code id} of the volume whose committed image is {@code committed} */
    static Path revision(Path committed, String id) {
        return committed.resolveSibling(revisionPrefix(committed) + id);
    }

    /**
     * @param relative a file's path relative to the pool directory, not a temporary
     * @return the volume whose committed image or working copy the file is
     */
    static Optional<String> vidOfImage(String relative) {
        if (!relative.endsWith(IMAGE) || relative.startsWith(".")) {
            return Optional.empty();
        }
        return Optional.of(withoutDirty(relative.substring(0, relative.length() - IMAGE.length())));
    }

    /**
     * @param relative a file's path relative to the pool directory
     * @return the volume any of whose files (revisions, staged image and temporaries included) the file is
     */
    static Optional<String> vidOfAnyFile(String relative) {
        int i = relative.indexOf(IMAGE);
        if (i < 0 || relative.startsWith(".")) {
            return Optional.empty();
        }
        return Optional.of(withoutDirty(relative.substring(0, i)));
    }

    /**
     * @param fileName the name of a file in a pool directory, without its directory
     * @return the last part of the vid of the volume whose file it is ({@code private} for
     *         {@code private.img@000003}); empty when the name is not one of a volume's files
     */
    public static Optional<String> volumeName(String fileName) {
        Matcher m = ANY_FILE.matcher(fileName);
        return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /**
     * @param relative a file's path relative to the pool directory, not a temporary
     * @return whether it is a committed image or a revision (what stays: not a working copy, not a staged image)
     */
    static boolean isKept(String relative) {
        if (relative.startsWith(".") || relative.contains("/.")) {
            return false;
        }
        return relative.endsWith(IMAGE) && !relative.endsWith(DIRTY + IMAGE) || relative.contains(IMAGE + REVISION);
    }

    /** @return whether a volume id's last part would make its files' names ambiguous */
    static boolean ambiguous(String lastPart) {
        return lastPart.endsWith(DIRTY) || lastPart.endsWith(IMAGE);
    }

    private static String withoutDirty(String base) {
        return base.endsWith(DIRTY) ? base.substring(0, base.length() - DIRTY.length()) : base;
    }
}
