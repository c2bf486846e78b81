package compart.xl.linux;

import java.util.Objects;

/**
 * A destination range of FIDEDUPERANGE: the same length as the source range, at {@code offset} of {@code file}.
 *
 * @param file   an open file, writable or owned by the caller
 * @param offset offset in {@code file}, aligned to the filesystem block size
 */
public record DedupeTarget(LinuxFile file, long offset) {
    public DedupeTarget {
        Objects.requireNonNull(file, "file");
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset);
        }
    }
}
