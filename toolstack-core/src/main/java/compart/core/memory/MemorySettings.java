package compart.core.memory;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The memory balancing's settings, with the keys and defaults of Qubes' {@code qmemman.conf} (section
 * {@code [global]}): {@code vm-min-mem} (200M), {@code dom0-mem-boost} (350M), {@code cache-margin-factor} (1.3).
 * Read from {@code /etc/compart/memory.conf}; a missing file means the defaults. Immutable.
 *
 * @param vmMinMem          the least preferred size of a balanced qube, bytes
 * @param dom0MemBoost      what dom0 gets on top of its use for its disk caches, bytes
 * @param cacheMarginFactor a qube's preferred size is its use times this
 */
public record MemorySettings(long vmMinMem, long dom0MemBoost, double cacheMarginFactor) {
    private static final long MIB = 1024 * 1024;

    /** Qubes' defaults. */
    public static final MemorySettings QUBES_DEFAULTS = new MemorySettings(200 * MIB, 350 * MIB, 1.3);

    /** The file compartd reads them from. */
    public static final Path DEFAULT_FILE = Path.of("/etc/compart/memory.conf");

    /** Checks the values. */
    public MemorySettings {
        if (vmMinMem < 0 || dom0MemBoost < 0 || !(cacheMarginFactor >= 1.0 && cacheMarginFactor <= 100.0)) {
            throw CompartException.invalidValue("memory settings out of range: vm-min-mem %d, dom0-mem-boost %d, "
                    + "cache-margin-factor %s (must be 1..100)", vmMinMem, dom0MemBoost, cacheMarginFactor);
        }
    }

    /**
     * Reads the settings file: {@code key = value} lines, {@code #} comments, an optional {@code [global]} section
     * header, sizes with a K, M or G suffix (1024 based) or in bytes.
     *
     * @param file the file; missing means {@link #QUBES_DEFAULTS}
     * @return the settings, defaults for keys not given
     * @throws CompartException INVALID_VALUE naming the file and line of an unknown key or a bad value; STORAGE
     *                          when the file exists but cannot be read
     */
    public static MemorySettings read(Path file) {
        if (!Files.exists(file)) {
            return QUBES_DEFAULTS;
        }
        try {
            return parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot read " + file + ": " + e, e);
        }
    }

    /** @return the settings in {@code text} (see {@link #read}); {@code source} names it in messages */
    public static MemorySettings parse(String text, String source) {
        long minMem = QUBES_DEFAULTS.vmMinMem;
        long boost = QUBES_DEFAULTS.dom0MemBoost;
        double factor = QUBES_DEFAULTS.cacheMarginFactor;
        int n = 0;
        for (String raw : text.split("\n", -1)) {
            n++;
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";") || line.equals("[global]")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw CompartException.invalidValue("%s line %d: expected key = value, got '%s'", source, n, line);
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            switch (key) {
                case "vm-min-mem" -> minMem = size(value, source, n);
                case "dom0-mem-boost" -> boost = size(value, source, n);
                case "cache-margin-factor" -> factor = number(value, source, n);
                case "log-level" -> { } // Qubes' key for qmemman's own log; compartd's logging is configured apart
                default -> throw CompartException.invalidValue("%s line %d: unknown key '%s' (known: vm-min-mem, "
                        + "dom0-mem-boost, cache-margin-factor, log-level)", source, n, key);
            }
        }
        return new MemorySettings(minMem, boost, factor);
    }

    private static long size(String value, String source, int line) {
        String v = value.toUpperCase(Locale.ROOT);
        long unit = 1;
        if (v.endsWith("K") || v.endsWith("M") || v.endsWith("G")) {
            unit = switch (v.charAt(v.length() - 1)) {
                case 'K' -> 1024L;
                case 'M' -> MIB;
                default -> 1024 * MIB;
            };
            v = v.substring(0, v.length() - 1);
        }
        if (v.isEmpty() || v.length() > 12 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw CompartException.invalidValue("%s line %d: '%s' is not a size (e.g. 200M)", source, line, value);
        }
        return Long.parseLong(v) * unit;
    }

    private static double number(String value, String source, int line) {
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw CompartException.invalidValue("%s line %d: '%s' is not a number", source, line, value);
        }
    }
}
