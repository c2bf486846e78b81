package compart.core.model;

import compart.errors.CompartException;
import compart.volumes.PoolDrivers;
import java.net.Inet6Address;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which properties each qube class has, their defaults (with inheritance from the template and from the global
 * properties) and the checks a new value must pass. Names, types and defaults follow qubes-core-admin; the
 * cross-qube rules (netvm provides network, no loops, template classes) are checked on the whole
 * {@link Inventory} after each change, in {@link Inventory#violations()}.
 *
 * <p>Stateless and thread safe.
 */
public final class PropertyCatalog {
    /** Qubes' default memory for a qube, in MiB. */
    public static final int DEFAULT_MEMORY = 400;
    /** Qubes' default vcpus. */
    public static final int DEFAULT_VCPUS = 2;
    /** Qubes' default kernel options when a kernel is set. */
    public static final String DEFAULT_KERNELOPTS = "swiotlb=2048";

    /** What Python's {@code int()} reads, up to 18 digits. */
    private static final Pattern INT = Pattern.compile("\\s*[+-]?[0-9](_?[0-9]){0,17}\\s*");
    private static final Pattern MAC = Pattern.compile("([0-9a-f]{2}:){5}[0-9a-f]{2}");
    private static final Pattern IPV4 = Pattern.compile(
            "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9_+,.-]*");

    /** Properties set once at creation: Qubes refuses to reset them, where it ignores a reset of another read-only. */
    static final Set<String> WRITE_ONCE = Set.of("name", "qid", "uuid", "dispid");
    /** Properties Qubes loads after the others (they name other qubes or depend on them), and lists after them. */
    private static final Set<String> LOADED_LATE = Set.of("appvm_default_bootmode", "audiovm", "bootmode",
            "default_dispvm", "guivm", "kernelopts", "management_dispvm", "netvm", "template");

    private static final Map<QubeClass, Map<String, PropertyDef>> QUBE = new EnumMap<>(QubeClass.class);
    private static final Map<String, PropertyDef> GLOBAL;

    static {
        var common = declare(new LinkedHashMap<>(), """
            ro name               STR   User-specified name of the domain.
            ro qid                INT   Internal, persistent identifier of particular domain. Note this is different \
                from Xen domid.
            ro uuid               STR   UUID of the domain.
            ro klass              STR   Domain class name.
            rw label              LABEL Colourful label assigned to VM. This is where the colour of the padlock is \
                set.
            ro icon               STR   freedesktop icon name for the qube.
            rw default_dispvm     VM    Default disposable template to be used for spawning disposable qubes for \
                service calls.
            rw include_in_backups BOOL  If this domain is to be included in default backup.
            ro updateable         BOOL  True if this machine may be updated on its own.
            rw keyboard_layout    STR   Keyboard layout for this VM.
            rw devices_denied     STR   Device interface codes this qube may not be given.
            """);
        QUBE.put(QubeClass.AdminVM, Collections.unmodifiableMap(new LinkedHashMap<>(common)));

        var vm = declare(new LinkedHashMap<>(common), """
            ro xid               INT   Xen ID.
            rw virt_mode         STR   Virtualisation mode: full virtualisation ("HVM"), or paravirtualisation \
                ("PV"), or hybrid ("PVH"). TemplateBasedVMs use its template's value by default.
            rw memory            INT   Memory currently available for this VM (MiB). TemplateBasedVMs use its \
                template's value by default.
            rw maxmem            INT   Maximum amount of memory available for this VM (for the purpose of the memory \
                balancer). Set to 0 to disable memory balancing for this qube.
            rw vcpus             INT   Number of virtual CPUs for a qube. TemplateBasedVMs use its template's value \
                by default.
            rw kernel            STR   Kernel used by this domain. TemplateBasedVMs use its template's value by \
                default.
            rw kernelopts        STR   Kernel command line passed to domain. TemplateBasedVMs use its template's \
                value by default.
            rw debug             BOOL  Turns on debugging features.
            rw default_user      STR   Default user to start applications as. TemplateBasedVMs use its template's \
                value by default.
            rw qrexec_timeout    INT   Time in seconds after which qrexec connection attempt is deemed failed. \
                Operating system inside VM should be able to boot in this time.
            rw shutdown_timeout  INT   Time in seconds for shutdown of the VM, after which VM may be forcefully \
                powered off.
            rw autostart         BOOL  Setting this to `True` means that VM should be autostarted on dom0 boot.
            rw installed_by_rpm  BOOL  If this domain's image was installed from package tracked by package manager.
            rw management_dispvm VM    Default disposable template to be used for spawning disposable qubes for \
                managing this qube.
            rw guivm             VM    VM used for Gui.
            rw audiovm           VM    VM used for Audio.
            rw netvm             VM    VM that provides network connection to this domain. When `None`, machine is \
                disconnected. When absent, domain uses default NetVM.
            rw provides_network  BOOL  If this domain can act as network provider (formerly known as NetVM or \
                ProxyVM).
            rw mac               STR   MAC address of the NIC emulated inside VM.
            rw ip                STR   IP address of this domain.
            ro visible_ip        STR   IP address of this domain as seen by the domain.
            ro visible_gateway   STR   Default gateway of this domain as seen by the domain.
            ro visible_netmask   STR   Netmask as seen by the domain.
            ro gateway           STR   Gateway for other domains that use this domain as netvm.
            ro dns               STR   DNS servers set up for this domain.
            rw ip6               STR   IPv6 address of this qube.
            ro visible_ip6       STR   IPv6 address of this qube, as the qube sees it.
            ro visible_gateway6  STR   IPv6 default gateway of this qube, as the qube sees it.
            ro gateway6          STR   IPv6 gateway this qube offers to the qubes using it as netvm.
            rw backup_timestamp  INT   When this qube was last backed up, in seconds since the Unix epoch.
            ro start_time        STR   When this qube was started (empty while it is halted).
            rw stubdom_mem       INT   Memory of this qube's device-model stub domain, in MiB.
            ro stubdom_uuid      STR   UUID of this qube's device-model stub domain.
            ro stubdom_xid       INT   Xen ID of this qube's device-model stub domain (-1 when there is none).
            rw bootmode          STR   Boot mode this qube starts in.
            """); // xid is stateless, as in Qubes: the live domain's id (-1 while halted), from the daemon
        var template = declare(new LinkedHashMap<>(vm), """
            rw appvm_default_bootmode STR Boot mode for the AppVMs based on this template when they set none.
            """);
        QUBE.put(QubeClass.TemplateVM, Collections.unmodifiableMap(template));

        var standalone = declare(new LinkedHashMap<>(vm), """
            rw template_for_dispvms BOOL  Should this VM be allowed to start as Disposable VM.
            """);
        QUBE.put(QubeClass.StandaloneVM, Collections.unmodifiableMap(standalone));

        var app = declare(new LinkedHashMap<>(standalone), """
            rw template VM    Template, on which this AppVM is based.
            """);
        QUBE.put(QubeClass.AppVM, Collections.unmodifiableMap(app));

        var disp = declare(new LinkedHashMap<>(vm), """
            rw template     VM    AppVM, on which this disposable is based.
            ro dispid       INT   Internal, persistent identifier of particular disposable.
            rw auto_cleanup BOOL  automatically remove this qube upon shutdown
            ro is_preload   BOOL  Whether this disposable is a preloaded one.
            """);
        QUBE.put(QubeClass.DispVM, Collections.unmodifiableMap(disp));

        GLOBAL = Collections.unmodifiableMap(declare(new LinkedHashMap<>(), """
            rw default_template         VM    Default template for new AppVMs
            rw default_netvm            VM    Default NetVM for AppVMs. Initial state is `None`, which means that \
                AppVMs are not connected to the Internet.
            rw default_dispvm           VM    Default disposable template to be used for spawning disposable qubes \
                for service calls in this system.
            rw management_dispvm        VM    Default disposable template to be used for spawning disposable qubes \
                for managing a qube in this system.
            rw default_guivm            VM    Default GuiVM for VMs.
            rw default_audiovm          VM    Default AudioVM for VMs.
            rw updatevm                 VM    Which VM to use as `yum` proxy for updating AdminVM and TemplateVMs
            rw clockvm                  VM    Which VM to use as NTP proxy for updating AdminVM
            rw default_kernel           STR   Which kernel to use when not overriden in VM
            rw default_pool             STR   Default storage pool
            rw default_pool_root        STR   Default storage pool for root volumes
            rw default_pool_private     STR   Default storage pool for private volumes
            rw default_pool_volatile    STR   Default storage pool for volatile volumes
            rw default_pool_kernel      STR   Default storage pool for kernel volumes
            rw default_qrexec_timeout   INT   Default time in seconds after which qrexec connection attempt is \
                deemed failed
            rw default_shutdown_timeout INT   Default time in seconds for VM shutdown to complete
            rw stats_interval           INT   Interval in seconds for VM stats reporting (memory, CPU usage)
            rw check_updates_vm         BOOL  Check for updates inside qubes
            """));
    }

    /**
     * Adds the properties of a table to {@code m}: one per line, {@code rw|ro NAME TYPE HELP} (rw: a qube may set
     * it; TYPE a {@link PropertyType}); a help too long for one line goes on after a backslash.
     *
     * @return {@code m}
     */
    private static Map<String, PropertyDef> declare(Map<String, PropertyDef> m, String table) {
        for (String line : table.strip().split("\n")) {
            String[] f = line.strip().split(" +", 4);
            m.put(f[1], new PropertyDef(f[1], PropertyType.valueOf(f[2]), f[0].equals("rw"),
                    f[3].replaceAll(" {2,}", " ")));
        }
        return m;
    }

    private PropertyCatalog() {
    }

    /** @return the properties of a qube of class {@code klass}, by name */
    public static Map<String, PropertyDef> of(QubeClass klass) {
        return QUBE.get(klass);
    }

    /**
     * @param klass the qube class
     * @return its property names in the order Qubes lists them: by name, those Qubes loads late after the others
     */
    public static List<String> listed(QubeClass klass) {
        return QUBE.get(klass).keySet().stream()
                .sorted(Comparator.comparing((String n) -> LOADED_LATE.contains(n)).thenComparing(n -> n)).toList();
    }

    /**
     * @return whether Qubes knows a default for the qube property at all (a qube's name, qid, uuid, dispid, label
     *         and template are only ever set; dom0's name, qid and uuid are defaults), where a default of none
     *         still counts
     */
    public static boolean hasDefault(QubeClass klass, String name) {
        return switch (name) {
            case "label", "template", "dispid" -> false;
            case "name", "qid", "uuid" -> klass == QubeClass.AdminVM;
            default -> true;
        };
    }

    /** @return whether Qubes knows a default for the global property at all */
    public static boolean globalHasDefault(String name) {
        return !name.equals("default_template") && !name.equals("default_kernel");
    }

    /** @return the global properties, by name */
    public static Map<String, PropertyDef> global() {
        return GLOBAL;
    }

    /**
     * Parses an untrusted value for {@code def} into its canonical text (the coarse, type-level check; the
     * value-level checks are in {@link #checkQube} and {@link #checkGlobal}).
     *
     * @param def       the property
     * @param untrusted the value as received (ASCII already checked by the caller)
     * @param inv       the inventory, to resolve labels
     * @return int as decimal, bool as True/False, label by name, vm name or "" for none, str unchanged
     * @throws CompartException INVALID_VALUE
     */
    static String canonical(PropertyDef def, String untrusted, Inventory inv) {
        // Qubes' coarse check (its property's sanitize): its words, and QubesValueError rather than the
        // QubesPropertyValueError of a property's own rules.
        return switch (def.type()) {
            case INT -> {
                if (!INT.matcher(untrusted).matches()) {
                    throw Names.malformed("Failed to parse property value as int");
                }
                yield Long.toString(Long.parseLong(untrusted.strip().replace("_", "").replaceFirst("^\\+", "")));
            }
            case BOOL -> switch (untrusted.toLowerCase(Locale.ROOT)) {
                case "0", "no", "false", "off" -> "False";
                case "1", "yes", "true", "on" -> "True";
                default -> throw Names.malformed("Invalid literal for boolean property: %s", Names.repr(untrusted));
            };
            case VM -> untrusted.isEmpty() || untrusted.equals("None") ? "" : Names.qube(untrusted);
            case LABEL -> inv.label(printable(untrusted)).name();
            case STR -> switch (def.name()) {
                case "ip" -> address(untrusted, false);
                case "ip6" -> address(untrusted, true);
                case "uuid" -> {
                    if (!untrusted.matches("(urn:uuid:)?\\{?[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}}?")) {
                        throw Names.malformed("Failed to parse property value as UUID");
                    }
                    yield untrusted;
                }
                default -> printable(untrusted);
            };
        };
    }

    /** @return the address when it is one of the family ({@code ip}, {@code ip6} are typed in Qubes) */
    private static String address(String untrusted, boolean v6) {
        boolean ok = v6 ? untrusted.contains(":") && isInet6(untrusted) : IPV4.matcher(untrusted).matches();
        if (!ok) {
            throw Names.malformed("Failed to parse property value as %s", v6 ? "IPv6Address" : "IPv4Address");
        }
        return untrusted;
    }

    private static boolean isInet6(String s) {
        if (!s.matches("[0-9a-fA-F:.]+")) {
            return false;
        }
        try {
            return Inet6Address.ofLiteral(s) != null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** @return the value when it has only Python's {@code string.printable} characters */
    private static String printable(String untrusted) {
        for (int i = 0; i < untrusted.length(); i++) {
            char c = untrusted.charAt(i);
            if ((c < 0x20 || c > 0x7e) && (c < '\t' || c > '\r')) {
                throw Names.malformed("Invalid characters in property value");
            }
        }
        return untrusted;
    }

    /**
     * The default value of property {@code name} of {@code q}: Qubes' defaults with inheritance from the
     * template, the netvm and the global properties.
     *
     * @return the default, or empty when the property has no value by default
     */
    static Optional<String> defaultOf(Inventory inv, Qube q, String name) {
        return switch (name) {
            case "name" -> Optional.of(q.name());
            case "qid" -> Optional.of(Integer.toString(q.qid()));
            case "uuid" -> Optional.of(q.uuid().toString());
            case "klass" -> Optional.of(q.klass().name());
            case "label" -> Optional.empty();
            case "icon" -> Optional.of(icon(inv, q));
            case "default_dispvm" -> q.klass() == QubeClass.DispVM
                    ? inv.value(q, Prop.TEMPLATE)
                    : inv.globalValue(Prop.Global.DEFAULT_DISPVM);
            case "include_in_backups" -> Optional.of(q.klass() == QubeClass.DispVM
                    ? bool(!inv.value(q, Prop.AUTO_CLEANUP))
                    : "True");
            case "updateable" -> Optional.of(bool(!q.klass().hasTemplate()));
            case "keyboard_layout" -> Optional.of("us++");
            case "virt_mode" -> fromTemplate(inv, q, name, Optional.of("pvh"));
            case "memory" -> fromTemplate(inv, q, name, Optional.of(Integer.toString(DEFAULT_MEMORY)));
            case "maxmem" -> {
                long memory = inv.value(q, Prop.MEMORY);
                boolean linux = "Linux".equals(q.features().get("os"));
                long cap = linux ? memory * 10 : 4000;
                if (inv.hostMemoryMib() > 0) {
                    cap = Math.min(cap, inv.hostMemoryMib() / 2);
                }
                yield fromTemplate(inv, q, name, Optional.of(Long.toString(cap)));
            }
            case "vcpus" -> fromTemplate(inv, q, name, Optional.of(Integer.toString(DEFAULT_VCPUS)));
            case "kernel" -> fromTemplate(inv, q, name, inv.globalValue(Prop.Global.DEFAULT_KERNEL));
            case "kernelopts" -> {
                if (inv.value(q, Prop.KERNEL).orElse("").isEmpty()) {
                    yield Optional.of("");
                }
                yield fromTemplate(inv, q, name, Optional.of(DEFAULT_KERNELOPTS));
            }
            case "debug", "autostart", "installed_by_rpm", "provides_network", "template_for_dispvms",
                 "auto_cleanup" -> Optional.of("False");
            case "default_user" -> fromTemplate(inv, q, name, Optional.of("user"));
            case "qrexec_timeout" -> fromTemplate(inv, q, name, globalText(inv, Prop.Global.DEFAULT_QREXEC_TIMEOUT));
            case "shutdown_timeout" ->
                    fromTemplate(inv, q, name, globalText(inv, Prop.Global.DEFAULT_SHUTDOWN_TIMEOUT));
            case "management_dispvm" -> fromTemplate(inv, q, name, inv.globalValue(Prop.Global.MANAGEMENT_DISPVM));
            case "guivm" -> inv.globalValue(Prop.Global.DEFAULT_GUIVM);
            case "audiovm" -> inv.globalValue(Prop.Global.DEFAULT_AUDIOVM);
            case "netvm" -> q.klass() == QubeClass.TemplateVM ? Optional.empty()
                    : inv.globalValue(Prop.Global.DEFAULT_NETVM);
            case "mac" -> Optional.of(Addresses.DEFAULT_MAC);
            case "ip" -> inv.isNetworked(q) ? Optional.of(Addresses.ipv4For(q)) : Optional.empty();
            case "visible_ip" -> Optional.ofNullable(q.features().get("net.fake-ip")).or(() -> inv.value(q, Prop.IP));
            case "visible_gateway" -> Optional.ofNullable(q.features().get("net.fake-gateway"))
                    .or(() -> inv.value(q, Prop.NETVM).flatMap(inv::find).flatMap(n -> inv.value(n, Prop.GATEWAY)));
            case "visible_netmask" -> Optional.ofNullable(q.features().get("net.fake-netmask"))
                    .or(() -> inv.value(q, Prop.NETVM).isPresent() ? Optional.of(Addresses.NETMASK) : Optional.empty());
            case "gateway" -> inv.value(q, Prop.PROVIDES_NETWORK) ? inv.value(q, Prop.VISIBLE_IP) : Optional.empty();
            case "dns" -> inv.isNetworked(q) ? Optional.of(Addresses.DNS) : Optional.empty();
            case "xid", "stubdom_xid" -> Optional.of("-1");
            case "devices_denied" -> Optional.of("");
            case "bootmode", "appvm_default_bootmode" -> Optional.of("default");
            case "is_preload" -> Optional.of(isPreload(inv, q) ? "True" : "False");
            case "ip6", "visible_ip6", "visible_gateway6", "gateway6", "backup_timestamp", "start_time", "stubdom_mem",
                 "stubdom_uuid" -> Optional.empty();
            case "dispid" -> Optional.of(Integer.toString(q.dispid()));
            case "template" -> Optional.empty();
            default -> throw new IllegalStateException("no default rule for property " + name);
        };
    }

    /**
     * @return whether a disposable is preloaded (Qubes' stateless {@code is_preload}): its name is in its template's
     *         {@code preload-dispvm} feature, or it is being handed out ({@code preload-dispvm-in-progress} set)
     */
    private static boolean isPreload(Inventory inv, Qube q) {
        if (q.klass() != QubeClass.DispVM) {
            return false;
        }
        if (!q.features().getOrDefault("preload-dispvm-in-progress", "").isEmpty()) {
            return true;
        }
        var list = inv.value(q, Prop.TEMPLATE).flatMap(inv::find).map(t -> t.features().get("preload-dispvm"));
        return list.isPresent() && List.of(list.get().trim().split(" +")).contains(q.name());
    }

    /** @return the default of global property {@code name}, or empty when it has none */
    static Optional<String> globalDefaultOf(Inventory inv, String name) {
        return switch (name) {
            case "default_guivm", "default_audiovm" -> Optional.of("dom0");
            case "default_template", "default_netvm", "default_dispvm", "management_dispvm", "updatevm", "clockvm",
                 "default_kernel" -> Optional.empty();
            case "default_pool" -> {
                if (inv.pools().containsKey("default")) {
                    yield Optional.of("default");
                }
                if (inv.pools().containsKey("varlibqubes")) {
                    yield Optional.of("varlibqubes");
                }
                yield inv.pools().values().stream().filter(p -> PoolDrivers.holdsVolumes(p.driver()))
                        .map(PoolDefinition::name).findFirst();
            }
            case "default_pool_kernel" -> inv.pools().containsKey(PoolDefinition.KERNEL_POOL)
                    ? Optional.of(PoolDefinition.KERNEL_POOL)
                    : inv.globalValue(Prop.Global.DEFAULT_POOL);
            case "default_pool_root", "default_pool_private", "default_pool_volatile" ->
                    inv.globalValue(Prop.Global.DEFAULT_POOL);
            case "default_qrexec_timeout", "default_shutdown_timeout" -> Optional.of("60");
            case "stats_interval" -> Optional.of("3");
            case "check_updates_vm" -> Optional.of("True");
            default -> throw new IllegalStateException("no default rule for global property " + name);
        };
    }

    /**
     * Checks the value a qube property is about to get, alone (cross-qube rules come after, on the whole
     * inventory).
     *
     * @throws CompartException INVALID_VALUE saying why
     */
    static void checkQube(Inventory inv, Qube q, String name, String canonical) {
        switch (name) {
            case "memory", "vcpus", "qrexec_timeout", "shutdown_timeout" -> positive(q, name, canonical);
            case "maxmem" -> require(Long.parseLong(canonical) >= 0, q, name, canonical,
                    "maxmem must be positive or zero");
            case "virt_mode" -> require(canonical.equals("pvh") || canonical.equals("hvm") || canonical.equals("pv"),
                    q, name, canonical, "Invalid virtualization mode, supported values: hvm, pv, pvh");
            case "kernel" -> require(!canonical.contains("/"), q, name, canonical, "Kernel name cannot contain '/'");
            case "kernelopts" -> require(canonical.length() <= 512, q, name, canonical,
                    "kernelopts value too long (512 chars max)");
            case "default_user" -> require(USER.matcher(canonical).matches(), q, name, canonical,
                    "username can contain only [A-Za-z0-9_+,.-]");
            case "keyboard_layout" -> keyboardLayout(q, canonical);
            case "mac" -> require(MAC.matcher(canonical).matches(), q, name, canonical,
                    "invalid MAC address value (want 00:16:3e:xx:xx:xx form)");
            case "ip" -> require(IPV4.matcher(canonical).matches(), q, name, canonical, "not an IPv4 address");
            case "template" -> require(!canonical.isEmpty(), q, name, canonical, "cannot unset template");
            case "netvm", "default_dispvm", "management_dispvm", "guivm", "audiovm" -> {
                // references are checked on the whole inventory
            }
            default -> {
            }
        }
        require(PropertyCatalog.of(q.klass()).get(name).type() != PropertyType.VM || canonical.isEmpty()
                || inv.find(canonical).isPresent(), q, name, canonical, "Can't set " + name
                + " to non-existing qube " + canonical);
    }

    /** Checks the value a global property is about to get, alone. */
    static void checkGlobal(Inventory inv, String name, String canonical) {
        switch (name) {
            case "default_pool", "default_pool_root", "default_pool_private", "default_pool_volatile",
                 "default_pool_kernel" -> {
                if (!inv.pools().containsKey(canonical)) {
                    throw CompartException.invalidValue("No such storage pool");
                }
            }
            case "default_qrexec_timeout", "default_shutdown_timeout", "stats_interval" -> {
                if (Long.parseLong(canonical) <= 0) {
                    throw CompartException.invalidValue("global property %s must be positive, got %s", name,
                            canonical);
                }
            }
            case "default_kernel" -> {
                if (canonical.contains("/")) {
                    throw CompartException.invalidValue("Kernel name cannot contain '/'");
                }
            }
            default -> {
            }
        }
        if (GLOBAL.get(name).type() == PropertyType.VM && !canonical.isEmpty() && inv.find(canonical).isEmpty()) {
            throw CompartException.invalidValue("Can't set %s to non-existing qube %s", name, canonical);
        }
    }

    /** Qubes' checks of {@code LAYOUT+VARIANT+OPTIONS}, in its order and words. */
    private static void keyboardLayout(Qube q, String value) {
        String[] f = value.split("\\+", -1);
        require(f.length == 3, q, "keyboard_layout", value, "invalid number of keyboard layout parameters");
        require(f[0].matches("[A-Za-z]+"), q, "keyboard_layout", value, "Invalid keyboard layout provided");
        require(f[1].matches("[a-zA-Z0-9_-]*"), q, "keyboard_layout", value, "Invalid layout variant provided");
        require(f[2].matches("[a-zA-Z0-9_:,-]*"), q, "keyboard_layout", value, "Invalid layout options provided");
    }

    private static void positive(Qube q, String name, String canonical) {
        require(Long.parseLong(canonical) > 0, q, name, canonical, name + " must be positive");
        require(Long.parseLong(canonical) <= Integer.MAX_VALUE, q, name, canonical, name + " is too large");
    }

    /** @throws CompartException INVALID_VALUE saying {@code why}, unless {@code ok} */
    private static void require(boolean ok, Qube q, String name, String value, String why) {
        if (!ok) {
            throw invalid(q, name, value, why);
        }
    }

    static CompartException invalid(Qube q, String name, String value, String why) {
        return CompartException.invalidValue("%s", why);
    }

    private static Optional<String> fromTemplate(Inventory inv, Qube q, String name, Optional<String> fallback) {
        if (q.klass().hasTemplate()) {
            var template = q.explicit(Prop.TEMPLATE.name()).filter(t -> !t.isEmpty()).flatMap(inv::find);
            if (template.isPresent() && inv.hasProperty(template.get(), name)) {
                return inv.value(template.get(), name);
            }
        }
        return fallback;
    }

    /** @return a global property's value as text, for a qube default that inherits it */
    private static Optional<String> globalText(Inventory inv, Prop.GlobalKey<?> key) {
        return inv.globalValue(key.name());
    }

    private static String icon(Inventory inv, Qube q) {
        String label = inv.value(q, Prop.LABEL).orElse("black");
        if (q.klass() != QubeClass.TemplateVM && q.klass() != QubeClass.AdminVM
                && q.features().containsKey("servicevm")) {
            return "servicevm-" + label;
        }
        return switch (q.klass()) {
            case AdminVM -> "adminvm-black";
            case TemplateVM -> "templatevm-" + label;
            case DispVM -> "dispvm-" + label;
            case StandaloneVM -> "standalonevm-" + label;
            case AppVM -> (inv.value(q, Prop.TEMPLATE_FOR_DISPVMS) ? "templatevm-" : "appvm-") + label;
        };
    }

    static boolean isTrue(Optional<String> v) {
        return v.map("True"::equals).orElse(false);
    }

    static String bool(boolean b) {
        return b ? "True" : "False";
    }

    /** @return every property name of any class (for documentation and tests) */
    public static List<String> allNames() {
        var all = new ArrayList<String>();
        for (var m : QUBE.values()) {
            m.keySet().stream().filter(n -> !all.contains(n)).forEach(all::add);
        }
        return all;
    }
}
