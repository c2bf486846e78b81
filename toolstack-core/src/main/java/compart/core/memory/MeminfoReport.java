package compart.core.memory;

import java.util.OptionalLong;

/**
 * Parses what a qube's {@code meminfo-writer} wrote to its xenstore node {@code memory/meminfo}: its used memory
 * in KiB as decimal digits (total less free, buffers and cache, plus swap in use), rewritten when it changes by
 * more than 30 MB. The node is the guest's to write, so anything may be there. Thread safe (stateless).
 *
 * <p>Only plain ASCII digits are accepted (no sign, space, newline or other text, as qmemman), and, beyond
 * qmemman, at most {@value #MAX_DIGITS} of them and a value not above {@value #MAX_KIB} KiB (1 TiB): a longer or
 * larger figure is no report at all. A report never gives a qube more than its {@code maxmem} and never takes
 * memory from another below its own preference: the balancing caps it, so a lying qube can only grow itself to
 * its ceiling or shrink itself.
 */
public final class MeminfoReport {
    /** The most digits read: more is not a figure any guest has. */
    static final int MAX_DIGITS = 10;
    /** The largest use believed, KiB (1 TiB). */
    static final long MAX_KIB = 1L << 30;

    private MeminfoReport() {
    }

    /**
     * @param untrustedValue the node's value as the guest wrote it (null when the node is gone)
     * @return the used memory in bytes, or empty when the value is not a plain figure in range
     */
    public static OptionalLong parse(String untrustedValue) {
        if (untrustedValue == null || untrustedValue.isEmpty() || untrustedValue.length() > MAX_DIGITS) {
            return OptionalLong.empty();
        }
        long kib = 0;
        for (int i = 0; i < untrustedValue.length(); i++) {
            char c = untrustedValue.charAt(i);
            if (c < '0' || c > '9') {
                return OptionalLong.empty();
            }
            kib = kib * 10 + (c - '0');
        }
        return kib > MAX_KIB ? OptionalLong.empty() : OptionalLong.of(kib * 1024);
    }
}
