package compart.core.model;

import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Typed keys for the qube properties core reads itself: {@code inv.value(q, Prop.MEMORY)} is a {@code long},
 * {@code inv.value(q, Prop.AUTO_CLEANUP)} a {@code boolean}, {@code inv.value(q, Prop.NETVM)} the qube's name if
 * any; a misspelt key does not compile and "find usages" lists every reader of a property. Names, types, defaults
 * and checks stay in {@link PropertyCatalog}; a key only names a property of it (a unit test checks every key
 * against the catalog, type included). The Admin API, which reads properties the client names, keeps the
 * string-named methods of {@link Inventory}.
 *
 * <p>Add a key here when core code reads a property it did not read before; name it as the property, upper case.
 */
public final class Prop {
    /**
     * A qube property and how its value reads: bool as {@code Boolean}, int as {@code Long} (0 when unset), str,
     * vm and label as the canonical text, empty when none.
     *
     * @param name   the property's name, as in {@link PropertyCatalog} and on the wire
     * @param type   its type in the catalog
     * @param reader from the effective value's text to the value
     * @param <T>    the value's type
     */
    public record Key<T>(String name, PropertyType type, Function<Optional<String>, T> reader) {
        /** Requires every component. */
        public Key {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(reader, "reader");
        }
    }

    /** The qube's label (its colour), by name. */
    public static final Key<Optional<String>> LABEL = text("label", PropertyType.LABEL);
    /** Disposable template for service calls. */
    public static final Key<Optional<String>> DEFAULT_DISPVM = text("default_dispvm", PropertyType.VM);
    /** The template a TemplateBasedVM is based on (an AppVM for a DispVM). */
    public static final Key<Optional<String>> TEMPLATE = text("template", PropertyType.VM);
    /** Whether an AppVM may be the template of disposables. */
    public static final Key<Boolean> TEMPLATE_FOR_DISPVMS = bool("template_for_dispvms");
    /** Whether a DispVM is removed when it stops. */
    public static final Key<Boolean> AUTO_CLEANUP = bool("auto_cleanup");
    /** {@code pvh}, {@code hvm} or {@code pv}. */
    public static final Key<Optional<String>> VIRT_MODE = text("virt_mode", PropertyType.STR);
    /** Memory at start, MiB. */
    public static final Key<Long> MEMORY = number("memory");
    /** Memory the balancer may give, MiB (0: no balancing). */
    public static final Key<Long> MAXMEM = number("maxmem");
    /** Virtual CPUs. */
    public static final Key<Long> VCPUS = number("vcpus");
    /** Kernel version in the kernel pool; empty: the qube boots its own. */
    public static final Key<Optional<String>> KERNEL = text("kernel", PropertyType.STR);
    /** Kernel command line besides Qubes' common options. */
    public static final Key<Optional<String>> KERNELOPTS = text("kernelopts", PropertyType.STR);
    /** Seconds a start waits for the qrexec agent. */
    public static final Key<Long> QREXEC_TIMEOUT = number("qrexec_timeout");
    /** Seconds a waited shutdown waits. */
    public static final Key<Long> SHUTDOWN_TIMEOUT = number("shutdown_timeout");
    /** User that services run as by default. */
    public static final Key<Optional<String>> DEFAULT_USER = text("default_user", PropertyType.STR);
    /** The qube that gives this one its network; empty: none. */
    public static final Key<Optional<String>> NETVM = text("netvm", PropertyType.VM);
    /** Whether other qubes may use this one as netvm. */
    public static final Key<Boolean> PROVIDES_NETWORK = bool("provides_network");
    /** MAC address of the NIC. */
    public static final Key<Optional<String>> MAC = text("mac", PropertyType.STR);
    /** IPv4 address. */
    public static final Key<Optional<String>> IP = text("ip", PropertyType.STR);
    /** IPv4 address as the qube sees it. */
    public static final Key<Optional<String>> VISIBLE_IP = text("visible_ip", PropertyType.STR);
    /** Gateway of the qubes that use this one as netvm. */
    public static final Key<Optional<String>> GATEWAY = text("gateway", PropertyType.STR);

    private Prop() {
    }

    private static Key<Optional<String>> text(String name, PropertyType type) {
        return new Key<>(name, type, Function.identity());
    }

    private static Key<Boolean> bool(String name) {
        return new Key<>(name, PropertyType.BOOL, PropertyCatalog::isTrue);
    }

    private static Key<Long> number(String name) {
        return new Key<>(name, PropertyType.INT, v -> Long.parseLong(v.orElse("0")));
    }
}
