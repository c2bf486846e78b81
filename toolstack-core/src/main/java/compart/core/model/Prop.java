package compart.core.model;

import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Typed keys for the properties core reads itself: {@code inv.value(q, Prop.MEMORY)} is a {@code long},
 * {@code inv.value(q, Prop.AUTO_CLEANUP)} a {@code boolean}, {@code inv.value(q, Prop.NETVM)} the qube's name if
 * any, {@code inv.globalValue(Prop.Global.DEFAULT_POOL)} a global property; a misspelt key does not compile and
 * "find usages" lists every reader of a property. Names, types, defaults and checks stay in
 * {@link PropertyCatalog}; a key only names a property of it (a unit test checks every key against the catalog,
 * type included). The Admin API, which reads properties the client names, keeps the string-named methods of
 * {@link Inventory}.
 *
 * <p>Add a key here (a global one in {@link Global}) when core code reads a property it did not read before; name
 * the constant as the property, upper case.
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
    public static final Key<Optional<String>> LABEL = label("label");
    /** Disposable template for service calls. */
    public static final Key<Optional<String>> DEFAULT_DISPVM = vm("default_dispvm");
    /** Disposable template for managing the qube. */
    public static final Key<Optional<String>> MANAGEMENT_DISPVM = vm("management_dispvm");
    /** The qube's GUI qube. */
    public static final Key<Optional<String>> GUIVM = vm("guivm");
    /** The qube's audio qube. */
    public static final Key<Optional<String>> AUDIOVM = vm("audiovm");
    /** The template a TemplateBasedVM is based on (an AppVM for a DispVM). */
    public static final Key<Optional<String>> TEMPLATE = vm("template");
    /** Whether an AppVM may be the template of disposables. */
    public static final Key<Boolean> TEMPLATE_FOR_DISPVMS = bool("template_for_dispvms");
    /** Whether a DispVM is removed when it stops. */
    public static final Key<Boolean> AUTO_CLEANUP = bool("auto_cleanup");
    /** {@code pvh}, {@code hvm} or {@code pv}. */
    public static final Key<Optional<String>> VIRT_MODE = str("virt_mode");
    /** Memory at start, MiB. */
    public static final Key<Long> MEMORY = number("memory");
    /** Memory the balancer may give, MiB (0: no balancing). */
    public static final Key<Long> MAXMEM = number("maxmem");
    /** Virtual CPUs. */
    public static final Key<Long> VCPUS = number("vcpus");
    /** Kernel version in the kernel pool; empty: the qube boots its own. */
    public static final Key<Optional<String>> KERNEL = str("kernel");
    /** Kernel command line besides Qubes' common options. */
    public static final Key<Optional<String>> KERNELOPTS = str("kernelopts");
    /** Seconds a start waits for the qrexec agent. */
    public static final Key<Long> QREXEC_TIMEOUT = number("qrexec_timeout");
    /** Seconds a waited shutdown waits. */
    public static final Key<Long> SHUTDOWN_TIMEOUT = number("shutdown_timeout");
    /** User that services run as by default. */
    public static final Key<Optional<String>> DEFAULT_USER = str("default_user");
    /** The qube that gives this one its network; empty: none. */
    public static final Key<Optional<String>> NETVM = vm("netvm");
    /** Whether other qubes may use this one as netvm. */
    public static final Key<Boolean> PROVIDES_NETWORK = bool("provides_network");
    /** MAC address of the NIC. */
    public static final Key<Optional<String>> MAC = str("mac");
    /** IPv4 address. */
    public static final Key<Optional<String>> IP = str("ip");
    /** IPv4 address as the qube sees it. */
    public static final Key<Optional<String>> VISIBLE_IP = str("visible_ip");
    /** Gateway of the qubes that use this one as netvm. */
    public static final Key<Optional<String>> GATEWAY = str("gateway");

    /**
     * A global property (Qubes' {@code @GLOBAL}), read as {@link Key} reads a qube's.
     *
     * @param name   the property's name, as in {@link PropertyCatalog#global()} and on the wire
     * @param type   its type in the catalog
     * @param reader from the effective value's text to the value
     * @param <T>    the value's type
     */
    public record GlobalKey<T>(String name, PropertyType type, Function<Optional<String>, T> reader) {
        /** Requires every component. */
        public GlobalKey {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(reader, "reader");
        }
    }

    /** The global properties core reads: {@code inv.globalValue(Prop.Global.DEFAULT_POOL)}. */
    public static final class Global {
        /** Template of a new AppVM given none. */
        public static final GlobalKey<Optional<String>> DEFAULT_TEMPLATE = global(vm("default_template"));
        /** NetVM of qubes that set none. */
        public static final GlobalKey<Optional<String>> DEFAULT_NETVM = global(vm("default_netvm"));
        /** Disposable template of qubes that set none, and of a new DispVM given no template. */
        public static final GlobalKey<Optional<String>> DEFAULT_DISPVM = global(vm("default_dispvm"));
        /** Disposable template for managing qubes that set none. */
        public static final GlobalKey<Optional<String>> MANAGEMENT_DISPVM = global(vm("management_dispvm"));
        /** GuiVM of every qube. */
        public static final GlobalKey<Optional<String>> DEFAULT_GUIVM = global(vm("default_guivm"));
        /** AudioVM of every qube. */
        public static final GlobalKey<Optional<String>> DEFAULT_AUDIOVM = global(vm("default_audiovm"));
        /** Kernel of qubes that set none. */
        public static final GlobalKey<Optional<String>> DEFAULT_KERNEL = global(str("default_kernel"));
        /** Pool of a new qube's volumes. */
        public static final GlobalKey<Optional<String>> DEFAULT_POOL = global(str("default_pool"));
        /** {@code qrexec_timeout} of qubes that set none, seconds. */
        public static final GlobalKey<Long> DEFAULT_QREXEC_TIMEOUT = global(number("default_qrexec_timeout"));
        /** {@code shutdown_timeout} of qubes that set none, seconds. */
        public static final GlobalKey<Long> DEFAULT_SHUTDOWN_TIMEOUT = global(number("default_shutdown_timeout"));

        private Global() {
        }
    }

    private Prop() {
    }

    private static <T> GlobalKey<T> global(Key<T> key) {
        return new GlobalKey<>(key.name(), key.type(), key.reader());
    }

    private static Key<Optional<String>> str(String name) {
        return new Key<>(name, PropertyType.STR, Function.identity());
    }

    private static Key<Optional<String>> vm(String name) {
        return new Key<>(name, PropertyType.VM, Function.identity());
    }

    private static Key<Optional<String>> label(String name) {
        return new Key<>(name, PropertyType.LABEL, Function.identity());
    }

    private static Key<Boolean> bool(String name) {
        return new Key<>(name, PropertyType.BOOL, PropertyCatalog::isTrue);
    }

    private static Key<Long> number(String name) {
        return new Key<>(name, PropertyType.INT, v -> Long.parseLong(v.orElse("0")));
    }
}
