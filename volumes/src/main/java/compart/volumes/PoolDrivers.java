package compart.volumes;

import compart.errors.CompartException;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The installed {@link PoolDriver}s, loaded once with {@link ServiceLoader}: find one by name, open a pool with the
 * driver its config names, list every driver's options (what {@code admin.pool.ListDrivers} prints).
 *
 * <p>Thread safe (immutable).
 */
public final class PoolDrivers {
    private static final List<PoolDriver> INSTALLED = ServiceLoader.load(PoolDriver.class,
                    PoolDriver.class.getClassLoader()).stream().map(ServiceLoader.Provider::get)
            .sorted(Comparator.comparing(PoolDriver::name)).toList();

    private PoolDrivers() {
    }

    /** @return the installed drivers, sorted by name */
    public static List<PoolDriver> installed() {
        return INSTALLED;
    }

    /** @return the installed driver called {@code name}, if any */
    public static Optional<PoolDriver> find(String name) {
        return INSTALLED.stream().filter(d -> d.name().equals(name)).findFirst();
    }

    /** @return the installed driver called {@code name}; NOT_FOUND when none is */
    public static PoolDriver named(String name) {
        return find(name).orElseThrow(() -> CompartException.notFound("no pool driver %s: installed drivers are %s",
                name, INSTALLED.stream().map(PoolDriver::name).collect(Collectors.joining(", "))));
    }

    /**
     * Opens a pool with the driver its config names.
     *
     * @throws CompartException NOT_FOUND when no installed driver has that name; the driver's errors
     */
    public static Pool open(PoolConfig config) {
        return named(config.driver()).open(config);
    }

    /**
     * @return whether pools of driver {@code name} hold volumes the toolstack manages (true for a driver that is
     *         not installed: opening its pool reports it)
     */
    public static boolean holdsVolumes(String name) {
        return find(name).map(PoolDriver::holdsVolumes).orElse(true);
    }

    /** @return the options of ours that may be changed on a pool of driver {@code name} in use; none when unknown */
    public static List<String> settableOptions(String name) {
        return find(name).map(PoolDriver::settableOptions).orElse(List.of());
    }

    /** @return every installed driver's options by driver name, sorted by name */
    public static Map<String, List<String>> parameters() {
        var out = new TreeMap<String, List<String>>();
        INSTALLED.forEach(d -> out.put(d.name(), List.copyOf(d.parameters())));
        return out;
    }
}
