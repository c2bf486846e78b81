package compart.volumes;

import compart.errors.CompartException;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A pool as Qubes configures it: a name, a driver, and driver options ({@code dir_path},
 * {@code revisions_to_keep}, {@code reserve_percent} … see each driver).
 *
 * @param name    the pool's name ({@code varlibqubes}, {@code vm-pool} …)
 * @param driver  the driver's name ({@code file-reflink}, {@code lvm_thin})
 * @param options driver options, copied
 */
public record PoolConfig(String name, String driver, Map<String, String> options) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    public PoolConfig {
        if (name == null || !NAME.matcher(name).matches()) {
            throw CompartException.invalidValue("pool name %s is not valid", name);
        }
        if (driver == null || driver.isBlank()) {
            throw CompartException.invalidValue("pool %s: no driver given", name);
        }
        options = Map.copyOf(options);
    }

    /** @return the option's value, or {@code fallback} when it is not set */
    public String option(String key, String fallback) {
        return options.getOrDefault(key, fallback);
    }

    /** @return the option's value; INVALID_VALUE when it is missing */
    public String requiredOption(String key) {
        String v = options.get(key);
        if (v == null || v.isBlank()) {
            throw CompartException.invalidValue("pool %s (driver %s) needs the option %s", name, driver, key);
        }
        return v;
    }

    /** @return the option as an int in [min, max], or {@code fallback}; INVALID_VALUE when malformed */
    public int intOption(String key, int fallback, int min, int max) {
        String v = options.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            int i = Integer.parseInt(v.strip());
            if (i < min || i > max) {
                throw new NumberFormatException();
            }
            return i;
        } catch (NumberFormatException e) {
            throw CompartException.invalidValue("pool %s: option %s=%s is not an integer in [%d, %d]", name, key, v, min, max);
        }
    }
}
