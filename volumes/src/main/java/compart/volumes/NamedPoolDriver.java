package compart.volumes;

import java.util.List;

/**
 * A {@link PoolDriver} that declares its name and its options once, in its constructor.
 *
 * <p>Thread safe (immutable).
 */
public abstract class NamedPoolDriver implements PoolDriver {
    private final String name;
    private final List<String> parameters;

    /**
     * @param name       the driver's name as Qubes spells it
     * @param parameters the options a pool of the driver accepts, in Qubes' order
     */
    protected NamedPoolDriver(String name, String... parameters) {
        this.name = name;
        this.parameters = List.of(parameters);
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final List<String> parameters() {
        return parameters;
    }

    @Override
    public String toString() {
        return name + " pool driver";
    }
}
