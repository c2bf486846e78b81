package compart.xl.libxl;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.xl.foreign.HandleLifecycle;
import compart.xl.foreign.LibcNative;
import compart.xl.foreign.NativeLibrary;
import compart.xl.foreign.ToolLogger;
import compart.xl.xenstore.XenStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

import static compart.xl.libxl.LibxlNative.*;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A libxl context ({@code libxl_ctx}): the handle through which Compart creates, controls and watches domains.
 *
 * <p><b>Threads.</b> libxl's ctx is thread-safe and every method here may be called from any platform thread;
 * calls are synchronous ({@code ao_how = NULL}), so use platform threads, not virtual ones (a blocking downcall
 * pins its carrier). {@link #close()} waits for calls in flight and must not be called from a watch listener.
 *
 * <p><b>Children and SIGCHLD.</b> libxl forks hotplug scripts and device models. {@link #open()} first makes the
 * JDK install its own SIGCHLD setting (by initialising {@code java.lang.ProcessImpl}, which otherwise resets
 * SIGCHLD to SIG_DFL on first use and silently removes libxl's handler), then puts libxl in
 * {@code libxl_sigchld_owner_libxl_always_selective_reap} mode, in which libxl reaps only its own children and
 * the JDK keeps reaping its {@link Process}es, and checks that libxl's handler is in place
 * ({@link #sigchldHandlerInstalled()}). Nothing in the JVM may call {@code waitpid(-1)}.
 *
 * <p><b>Disaster.</b> A {@code disaster} callback is registered, so an unrecoverable libxl event error is logged
 * and reported by {@link #disaster()} instead of libxl calling {@code exit(-1)} on the JVM.
 *
 * <p><b>Events.</b> {@link #watch} starts, on first use, one daemon thread {@code libxl-events} that drives
 * libxl's event loop ({@code libxl_osevent_beforepoll}/{@code poll}/{@code afterpoll}/{@code libxl_event_check})
 * and calls the listeners on that thread; listeners must be quick and must not call {@link #close()}.
 *
 * <p><b>Errors.</b> Every return code is checked: a failure is a {@link CompartException} of kind
 * {@link ErrorKind#HYPERVISOR} ({@link ErrorKind#NOT_FOUND} when libxl says the domain does not exist) whose
 * message names the C function, the return code and its libxl name, the last error lines libxl logged on the
 * calling thread, and what to check.
 *
 * <p><b>Memory.</b> Every native buffer is allocated in an arena closed before the method returns; strings and
 * arrays that libxl mallocs are freed with the matching libxl/libc function. The ctx itself is freed by
 * {@link #close()}.
 */
public final class LibxlContext implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LibxlContext.class);
    private static final Map<Long, LibxlContext> BY_ADDRESS = new ConcurrentHashMap<>();
    private static final int EVENT_POLL_CAP_MILLIS = 100;

    private static final long DOMINFO_UUID = off(LIBXL_DOMINFO, "uuid");
    private static final long DOMINFO_DOMID = off(LIBXL_DOMINFO, "domid");
    private static final long DOMINFO_RUNNING = off(LIBXL_DOMINFO, "running");
    private static final long DOMINFO_BLOCKED = off(LIBXL_DOMINFO, "blocked");
    private static final long DOMINFO_PAUSED = off(LIBXL_DOMINFO, "paused");
    private static final long DOMINFO_SHUTDOWN = off(LIBXL_DOMINFO, "shutdown");
    private static final long DOMINFO_DYING = off(LIBXL_DOMINFO, "dying");
    private static final long DOMINFO_NEVER_STOP = off(LIBXL_DOMINFO, "never_stop");
    private static final long DOMINFO_SHUTDOWN_REASON = off(LIBXL_DOMINFO, "shutdown_reason");
    private static final long DOMINFO_OUTSTANDING = off(LIBXL_DOMINFO, "outstanding_memkb");
    private static final long DOMINFO_CURRENT = off(LIBXL_DOMINFO, "current_memkb");
    private static final long DOMINFO_MAX = off(LIBXL_DOMINFO, "max_memkb");
    private static final long DOMINFO_CPU_TIME = off(LIBXL_DOMINFO, "cpu_time");
    private static final long DOMINFO_VCPU_MAX_ID = off(LIBXL_DOMINFO, "vcpu_max_id");
    private static final long DOMINFO_VCPU_ONLINE = off(LIBXL_DOMINFO, "vcpu_online");
    private static final long DOMINFO_CPUPOOL = off(LIBXL_DOMINFO, "cpupool");
    private static final long DOMINFO_TYPE = off(LIBXL_DOMINFO, "domain_type");

    private static final ValueLayout.OfLong UUID_HALF = JAVA_LONG.withOrder(ByteOrder.BIG_ENDIAN).withByteAlignment(1);

    private final MemorySegment ctx;
    private final HandleLifecycle lifecycle = new HandleLifecycle("the libxl context");
    private volatile String disaster;
    private final Map<Long, Listener> listeners = new ConcurrentHashMap<>();
    private XenStore xenstore; // guarded by this; opened on first need, to tell PVH from HVM

    /** A watch's listener and the domain's uuid (libxl's death events carry a nil uuid). */
    private record Listener(Consumer<DomainEvent> consumer, UUID uuid) {
    }
    private final AtomicLong nextUser = new AtomicLong(1);
    private final AtomicBoolean stopping = new AtomicBoolean();
    private Thread eventThread; // guarded by this

    private LibxlContext(MemorySegment ctx) {
        this.ctx = ctx;
    }

    /** What {@link #watch} returns: closing it disables the death event (once). */
    private record DeathWatch(int domid, Runnable disable) implements DomainWatch {
        @Override
        public void close() {
            disable.run();
        }
    }

    /** The process-wide hooks structs libxl keeps pointers to (they must outlive every ctx). */
    private static final class Hooks {
        static final MemorySegment CHILDPROC = Arena.global().allocate(LIBXL_CHILDPROC_HOOKS);
        static final MemorySegment EVENTS = Arena.global().allocate(LIBXL_EVENT_HOOKS);

        static {
            CHILDPROC.set(JAVA_INT, off(LIBXL_CHILDPROC_HOOKS, "chldowner"),
                    libxl_sigchld_owner_libxl_always_selective_reap);
            try {
                MemorySegment disaster = NativeLibrary.upcall(MethodHandles.lookup().findStatic(LibxlContext.class,
                        "disaster", MethodType.methodType(void.class, MemorySegment.class, int.class,
                                MemorySegment.class, int.class)), DISASTER);
                EVENTS.set(JAVA_LONG, off(LIBXL_EVENT_HOOKS, "event_occurs_mask"), 0L);
                EVENTS.set(ADDRESS, off(LIBXL_EVENT_HOOKS, "event_occurs"), MemorySegment.NULL);
                EVENTS.set(ADDRESS, off(LIBXL_EVENT_HOOKS, "disaster"), disaster);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }

    /**
     * Opens a libxl context ({@code libxl_ctx_alloc}) with a logger that feeds SLF4J, and sets up SIGCHLD handling
     * and the disaster callback as described above.
     *
     * @throws CompartException HYPERVISOR when libxl is not installed, when this is not a Xen dom0 (no
     *                          {@code /dev/xen/privcmd}, no xenstored), or when the SIGCHLD set-up failed
     */
    public static LibxlContext open() {
        LibxlNative.load();
        initialiseJdkSigchld();
        MemorySegment ctx;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pctx = arena.allocate(ADDRESS);
            ToolLogger.clearRecentErrors();
            int rc = libxl_ctx_alloc(pctx, LIBXL_VERSION, 0, ToolLogger.logger());
            if (rc != 0) {
                throw failure("libxl_ctx_alloc", rc, "",
                        "is this a Xen dom0? Check that xenfs is mounted on /proc/xen, that /dev/xen/privcmd exists, "
                                + "that xenstored is running and that the process runs as root");
            }
            ctx = pctx.get(ADDRESS, 0);
        }
        libxl_childproc_setmode(ctx, Hooks.CHILDPROC, MemorySegment.NULL);
        long handler = LibcNative.sigchldHandler();
        if (handler == 0 || handler == 1) {
            libxl_ctx_free(ctx);
            throw new CompartException(ErrorKind.HYPERVISOR, "libxl_childproc_setmode(selective_reap) did not "
                    + "install libxl's SIGCHLD handler (the disposition is still " + (handler == 0 ? "SIG_DFL" : "SIG_IGN")
                    + "): libxl would never notice its hotplug scripts exit; check that nothing else in the JVM "
                    + "manages SIGCHLD (native libraries, -Xrs)");
        }
        libxl_event_register_callbacks(ctx, Hooks.EVENTS, ctx);
        LibxlContext context = new LibxlContext(ctx);
        BY_ADDRESS.put(ctx.address(), context);
        LOG.debug("libxl ctx {} opened", Long.toHexString(ctx.address()));
        return context;
    }

    private static void initialiseJdkSigchld() {
        try {
            Class.forName("java.lang.ProcessImpl", true, ClassLoader.getSystemClassLoader());
        } catch (ClassNotFoundException e) {
            throw new CompartException(ErrorKind.HYPERVISOR, "cannot initialise java.lang.ProcessImpl before libxl "
                    + "takes SIGCHLD: this JDK is not supported (use JDK 25 on Linux)", e);
        }
    }

    /** @return whether a SIGCHLD handler (libxl's) is installed right now; false means children would be lost */
    public boolean sigchldHandlerInstalled() {
        long handler = LibcNative.sigchldHandler();
        return handler != 0 && handler != 1;
    }

    /** @return the disaster libxl reported, if any: after one, libxl calls and events may fail; reopen the context */
    public Optional<String> disaster() {
        return Optional.ofNullable(disaster);
    }

    // ---- host ----

    /** @return the hypervisor's version ({@code libxl_get_version_info}) */
    public VersionInfo version() {
        return call(() -> {
            ToolLogger.clearRecentErrors();
            MemorySegment info = libxl_get_version_info(ctx);
            if (info.equals(MemorySegment.NULL)) {
                throw failure("libxl_get_version_info", ERROR_FAIL, "", "check that the hypervisor answers: xl info");
            }
            MemorySegment v = info.reinterpret(LIBXL_VERSION_INFO.byteSize());
            return new VersionInfo(
                    v.get(JAVA_INT, off(LIBXL_VERSION_INFO, "xen_version_major")),
                    v.get(JAVA_INT, off(LIBXL_VERSION_INFO, "xen_version_minor")),
                    stringField(v, LIBXL_VERSION_INFO, "xen_version_extra"),
                    stringField(v, LIBXL_VERSION_INFO, "compiler"),
                    stringField(v, LIBXL_VERSION_INFO, "compile_by"),
                    stringField(v, LIBXL_VERSION_INFO, "compile_domain"),
                    stringField(v, LIBXL_VERSION_INFO, "compile_date"),
                    stringField(v, LIBXL_VERSION_INFO, "capabilities"),
                    stringField(v, LIBXL_VERSION_INFO, "changeset"),
                    v.get(JAVA_LONG, off(LIBXL_VERSION_INFO, "virt_start")),
                    v.get(JAVA_INT, off(LIBXL_VERSION_INFO, "pagesize")),
                    stringField(v, LIBXL_VERSION_INFO, "commandline"),
                    stringField(v, LIBXL_VERSION_INFO, "build_id"));
        });
    }

    /** @return the host's CPUs, memory and capabilities ({@code libxl_get_physinfo}) */
    public PhysInfo physInfo() {
        return call(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment p = arena.allocate(LIBXL_PHYSINFO);
                libxl_physinfo_init(p);
                try {
                    ToolLogger.clearRecentErrors();
                    check("libxl_get_physinfo", libxl_get_physinfo(ctx, p), "", "check that the hypervisor answers: xl info");
                    EnumSet<PhysInfo.Capability> caps = EnumSet.noneOf(PhysInfo.Capability.class);
                    for (PhysInfo.Capability cap : PhysInfo.Capability.values()) {
                        if (p.get(JAVA_BOOLEAN, off(LIBXL_PHYSINFO, "cap_" + cap.name().toLowerCase(Locale.ROOT)))) {
                            caps.add(cap);
                        }
                    }
                    return new PhysInfo(
                            p.get(JAVA_INT, off(LIBXL_PHYSINFO, "threads_per_core")),
                            p.get(JAVA_INT, off(LIBXL_PHYSINFO, "cores_per_socket")),
                            p.get(JAVA_INT, off(LIBXL_PHYSINFO, "max_cpu_id")),
                            p.get(JAVA_INT, off(LIBXL_PHYSINFO, "nr_cpus")),
                            p.get(JAVA_INT, off(LIBXL_PHYSINFO, "cpu_khz")),
                            p.get(JAVA_LONG, off(LIBXL_PHYSINFO, "total_pages")),
                            p.get(JAVA_LONG, off(LIBXL_PHYSINFO, "free_pages")),
                            p.get(JAVA_LONG, off(LIBXL_PHYSINFO, "scrub_pages")),
                            p.get(JAVA_LONG, off(LIBXL_PHYSINFO, "outstanding_pages")),
                            p.get(JAVA_LONG, off(LIBXL_PHYSINFO, "sharing_freed_pages")),
                            p.get(JAVA_LONG, off(LIBXL_PHYSINFO, "sharing_used_frames")),
                            p.get(JAVA_LONG, off(LIBXL_PHYSINFO, "max_possible_mfn")),
                            p.get(JAVA_INT, off(LIBXL_PHYSINFO, "nr_nodes")),
                            caps);
                } finally {
                    libxl_physinfo_dispose(p);
                }
            }
        });
    }

    // ---- domains ----

    /** @return every domain, Domain-0 included, in domid order ({@code libxl_list_domain}) */
    public List<DomainInfo> listDomains() {
        return call(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment count = arena.allocate(JAVA_INT);
                ToolLogger.clearRecentErrors();
                MemorySegment list = libxl_list_domain(ctx, count);
                if (list.equals(MemorySegment.NULL)) {
                    throw failure("libxl_list_domain", ERROR_FAIL, "", "check that the hypervisor answers: xl list");
                }
                int n = count.get(JAVA_INT, 0);
                try {
                    MemorySegment array = list.reinterpret(n * LIBXL_DOMINFO.byteSize());
                    List<DomainInfo> domains = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        domains.add(readDominfo(array.asSlice(i * LIBXL_DOMINFO.byteSize(), LIBXL_DOMINFO)));
                    }
                    return List.copyOf(domains);
                } finally {
                    libxl_dominfo_list_free(list, n);
                }
            }
        });
    }

    /** @return the domain with this id, or empty when there is none ({@code libxl_domain_info}) */
    public Optional<DomainInfo> domainInfo(int domid) {
        return call(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment info = arena.allocate(LIBXL_DOMINFO);
                libxl_dominfo_init(info);
                try {
                    ToolLogger.clearRecentErrors();
                    int rc = libxl_domain_info(ctx, info, domid);
                    if (rc == ERROR_DOMAIN_NOTFOUND) {
                        return Optional.empty();
                    }
                    check("libxl_domain_info", rc, "domain " + domid, "check the domain with xl list");
                    return Optional.of(readDominfo(info));
                } finally {
                    libxl_dominfo_dispose(info);
                }
            }
        });
    }

    /** @return the id of the domain with this name, or empty ({@code libxl_name_to_domid}) */
    public OptionalInt domainId(String name) {
        return call(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment domid = arena.allocate(JAVA_INT);
                int rc = libxl_name_to_domid(ctx, arena.allocateFrom(name), domid);
                return rc == 0 ? OptionalInt.of(domid.get(JAVA_INT, 0)) : OptionalInt.empty();
            }
        });
    }

    /**
     * Parses {@code json} with {@code libxl_domain_config_from_json} and prints it back with {@code to_json},
     * without creating anything. Use it to validate a config before {@link #createPaused(String)}.
     *
     * @return libxl's own JSON of what it understood
     * @throws CompartException INVALID_VALUE when libxl rejects the JSON or drops any field (unknown key, wrong
     *                          JSON type), naming every dropped field
     */
    public String checkDomainConfig(String json) {
        return call(() -> withDomainConfig(json, cfg -> null).json());
    }

    /** Builds the libxl JSON of {@code config} ({@link LibxlJson#domainConfig}) and creates the domain paused. */
    public int createPaused(DomainConfig config) {
        return createPaused(LibxlJson.domainConfig(config));
    }

    /**
     * Creates a domain, left paused, from libxl JSON: {@code libxl_domain_config_from_json}, a {@code to_json}
     * round trip that refuses silently dropped fields, then {@code libxl_domain_create_new}. The JSON is logged.
     * Call {@link #unpause} to start it.
     *
     * @return the new domain's id
     * @throws CompartException INVALID_VALUE for a config libxl does not accept whole; HYPERVISOR when the create
     *                          fails (libxl has then removed the half-built domain)
     */
    public int createPaused(String json) {
        return call(() -> withDomainConfig(json, cfg -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment domid = arena.allocate(JAVA_INT);
                ToolLogger.clearRecentErrors();
                long started = System.nanoTime();
                int rc = libxl_domain_create_new(ctx, cfg, domid, MemorySegment.NULL, MemorySegment.NULL);
                check("libxl_domain_create_new", rc, "config " + nameIn(json),
                        "see the libxl lines above and /var/log/xen/ (kernel path, memory free: xl info, "
                                + "hotplug scripts in /etc/xen/scripts)");
                int id = domid.get(JAVA_INT, 0);
                LOG.info("created domain {} ({}) paused in {} ms from libxl JSON:\n{}", id, nameIn(json),
                        (System.nanoTime() - started) / 1_000_000, json);
                return id;
            }
        }).result());
    }

    /** Starts a paused domain ({@code libxl_domain_unpause}). */
    public void unpause(int domid) {
        domainOp("libxl_domain_unpause", domid, () -> libxl_domain_unpause(ctx, domid, MemorySegment.NULL));
    }

    /** Pauses a domain ({@code libxl_domain_pause}). */
    public void pause(int domid) {
        domainOp("libxl_domain_pause", domid, () -> libxl_domain_pause(ctx, domid, MemorySegment.NULL));
    }

    /**
     * Asks the guest to shut down ({@code libxl_domain_shutdown}: the PV control node, or ACPI for HVM). Returns
     * when the request is made, not when the guest is down: {@link #watch} for the {@link DomainEvent.Shutdown}.
     */
    public void shutdown(int domid) {
        domainOp("libxl_domain_shutdown", domid, () -> libxl_domain_shutdown(ctx, domid, MemorySegment.NULL));
    }

    /** Asks the guest to reboot ({@code libxl_domain_reboot}). */
    public void reboot(int domid) {
        domainOp("libxl_domain_reboot", domid, () -> libxl_domain_reboot(ctx, domid, MemorySegment.NULL));
    }

    /** Destroys the domain and its devices now ({@code libxl_domain_destroy}), synchronously. */
    public void destroy(int domid) {
        domainOp("libxl_domain_destroy", domid, () -> libxl_domain_destroy(ctx, domid, MemorySegment.NULL));
    }

    /**
     * Sets the domain's memory target (balloon) to an absolute value ({@code libxl_set_memory_target}, enforced).
     *
     * @param targetKib the new target in KiB, not above the domain's max memory
     */
    public void setMemoryTarget(int domid, long targetKib) {
        if (targetKib <= 0) {
            throw CompartException.invalidValue("memory target of domain %d must be positive, got %d KiB", domid, targetKib);
        }
        domainOp("libxl_set_memory_target", domid, () -> libxl_set_memory_target(ctx, domid, targetKib, 0, 1));
    }

    /**
     * How much free memory creating this domain takes ({@code libxl_domain_need_memory} on the parsed config): its
     * memory with libxl's per-domain overhead (page tables, shadow or paging memory, video RAM).
     *
     * @param json the domain's libxl JSON, as for {@link #createPaused(String)}
     * @return KiB
     * @throws CompartException INVALID_VALUE for a config libxl does not accept whole; HYPERVISOR when libxl fails
     */
    public long needMemoryKib(String json) {
        return call(() -> withDomainConfig(json, cfg -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment need = arena.allocate(JAVA_LONG);
                ToolLogger.clearRecentErrors();
                check("libxl_domain_need_memory", libxl_domain_need_memory(ctx, cfg, -1, need), "config " + nameIn(json),
                        "see the libxl lines above");
                return need.get(JAVA_LONG, 0);
            }
        }).result());
    }

    /** @return the tty of the domain's primary console, e.g. {@code /dev/pts/3} ({@code libxl_primary_console_get_tty}) */
    public Path consoleTty(int domid) {
        return call(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment path = arena.allocate(ADDRESS);
                ToolLogger.clearRecentErrors();
                check("libxl_primary_console_get_tty", libxl_primary_console_get_tty(ctx, domid, path),
                        "domain " + domid, "check that xenconsoled runs in dom0");
                return Path.of(takeString(path.get(ADDRESS, 0)));
            }
        });
    }

    // ---- devices ----

    /** Hot-plugs a disk ({@code libxl_device_disk_add}) into a running or paused domain. */
    public void addDisk(int domid, DiskConfig disk) {
        addDisk(domid, LibxlJson.disk(disk));
    }

    /** Hot-plugs a disk given as libxl JSON ({@code libxl_device_disk_from_json} + {@code _add}). */
    public void addDisk(int domid, String diskJson) {
        device(DeviceKind.DISK, true, domid, diskJson);
    }

    /** Unplugs a disk ({@code libxl_device_disk_remove}); the JSON needs {@code vdev} and {@code backend_domid}. */
    public void removeDisk(int domid, String diskJson) {
        device(DeviceKind.DISK, false, domid, diskJson);
    }

    /** Unplugs a disk ({@code libxl_device_disk_remove}). */
    public void removeDisk(int domid, DiskConfig disk) {
        removeDisk(domid, LibxlJson.disk(disk));
    }

    /** Hot-plugs a NIC ({@code libxl_device_nic_add}). */
    public void addNic(int domid, NicConfig nic) {
        addNic(domid, LibxlJson.nic(nic));
    }

    /** Hot-plugs a NIC given as libxl JSON. */
    public void addNic(int domid, String nicJson) {
        device(DeviceKind.NIC, true, domid, nicJson);
    }

    /** Unplugs a NIC ({@code libxl_device_nic_remove}); the JSON needs {@code devid} and {@code backend_domid}. */
    public void removeNic(int domid, String nicJson) {
        device(DeviceKind.NIC, false, domid, nicJson);
    }

    /** Unplugs a NIC ({@code libxl_device_nic_remove}). */
    public void removeNic(int domid, NicConfig nic) {
        removeNic(domid, LibxlJson.nic(nic));
    }

    /**
     * Parses a device's libxl JSON and prints it back, without touching any domain.
     *
     * @return libxl's JSON of what it understood
     * @throws CompartException INVALID_VALUE when libxl rejects or drops anything
     */
    public String checkDeviceConfig(DeviceKind kind, String json) {
        return call(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment device = arena.allocate(kind.layout);
                kind.init(device);
                try {
                    return parseDevice(kind, device, json);
                } finally {
                    kind.dispose(device);
                }
            }
        });
    }

    /** The device kinds that can be hot-plugged from JSON. */
    public enum DeviceKind {
        DISK(LIBXL_DEVICE_DISK, "libxl_device_disk"), NIC(LIBXL_DEVICE_NIC, "libxl_device_nic");

        private final MemoryLayout layout;
        private final String prefix;

        DeviceKind(MemoryLayout layout, String prefix) {
            this.layout = layout;
            this.prefix = prefix;
        }

        void init(MemorySegment d) {
            if (this == DISK) libxl_device_disk_init(d); else libxl_device_nic_init(d);
        }

        void dispose(MemorySegment d) {
            if (this == DISK) libxl_device_disk_dispose(d); else libxl_device_nic_dispose(d);
        }
    }

    private void device(DeviceKind kind, boolean add, int domid, String json) {
        call(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment device = arena.allocate(kind.layout);
                kind.init(device);
                try {
                    parseDevice(kind, device, json);
                    ToolLogger.clearRecentErrors();
                    int rc = kind == DeviceKind.DISK
                            ? (add ? libxl_device_disk_add(ctx, domid, device, MemorySegment.NULL)
                                   : libxl_device_disk_remove(ctx, domid, device, MemorySegment.NULL))
                            : (add ? libxl_device_nic_add(ctx, domid, device, MemorySegment.NULL)
                                   : libxl_device_nic_remove(ctx, domid, device, MemorySegment.NULL));
                    check(kind.prefix + (add ? "_add" : "_remove"), rc, "domain " + domid,
                            "check the device JSON, the backend domain, and the hotplug script log in /var/log/xen/");
                    LOG.info("{} {} of domain {}: {}", add ? "added" : "removed", kind.name().toLowerCase(Locale.ROOT),
                            domid, json.strip());
                    return null;
                } finally {
                    kind.dispose(device);
                }
            }
        });
    }

    private String parseDevice(DeviceKind kind, MemorySegment device, String json) {
        try (Arena arena = Arena.ofConfined()) {
            ToolLogger.clearRecentErrors();
            int rc = kind == DeviceKind.DISK
                    ? libxl_device_disk_from_json(ctx, device, arena.allocateFrom(json))
                    : libxl_device_nic_from_json(ctx, device, arena.allocateFrom(json));
            if (rc != 0) {
                throw invalidConfig(kind.prefix + "_from_json", rc, json);
            }
            String back = takeString(kind == DeviceKind.DISK
                    ? libxl_device_disk_to_json(ctx, device) : libxl_device_nic_to_json(ctx, device));
            requireNothingDropped(kind.prefix, json, back);
            return back;
        }
    }

    // ---- events ----

    /**
     * Reports the domain's shutdown and death to {@code listener} ({@code libxl_evenable_domain_death}), on the
     * {@code libxl-events} thread. If the domain has already shut down, the shutdown is reported at once.
     *
     * @return the registration; close it to stop the events
     */
    public DomainWatch watch(int domid, Consumer<DomainEvent> listener) {
        Objects.requireNonNull(listener, "listener");
        long user = nextUser.getAndIncrement();
        UUID uuid = domainInfo(domid).map(DomainInfo::uuid).orElseThrow(() -> CompartException.notFound(
                "cannot watch domain %d: it does not exist (xl list)", domid));
        listeners.put(user, new Listener(listener, uuid));
        Runnable disable = lifecycle.watch(() -> listeners.remove(user), () -> call(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ADDRESS);
                ToolLogger.clearRecentErrors();
                check("libxl_evenable_domain_death", libxl_evenable_domain_death(ctx, domid, user, out),
                        "domain " + domid, "check that xenstored runs");
                return out.get(ADDRESS, 0);
            }
        }), evgen -> libxl_evdisable_domain_death(ctx, evgen));
        startEventThread();
        return new DeathWatch(domid, disable);
    }

    private synchronized void startEventThread() {
        if (eventThread == null) {
            eventThread = Thread.ofPlatform().name("libxl-events").daemon(true).start(this::eventLoop);
        }
    }

    private void eventLoop() {
        try (Arena arena = Arena.ofConfined()) {
            int capacity = 16;
            MemorySegment fds = arena.allocate(LibcNative.POLLFD, capacity);
            MemorySegment nfds = arena.allocate(JAVA_INT);
            MemorySegment timeout = arena.allocate(JAVA_INT);
            MemorySegment now = arena.allocate(LibcNative.TIMEVAL);
            MemorySegment eventOut = arena.allocate(ADDRESS);
            MemorySegment errno = NativeLibrary.errnoState(arena);
            while (!stopping.get()) {
                int count;
                lifecycle.readLock().lock();
                try {
                    if (lifecycle.isClosed()) {
                        return;
                    }
                    nfds.set(JAVA_INT, 0, capacity);
                    timeout.set(JAVA_INT, 0, EVENT_POLL_CAP_MILLIS);
                    LibcNative.now(now);
                    int rc = libxl_osevent_beforepoll(ctx, nfds, fds, timeout, now);
                    if (rc == ERROR_BUFFERFULL) {
                        capacity = nfds.get(JAVA_INT, 0) * 2;
                        fds = arena.allocate(LibcNative.POLLFD, capacity);
                        continue;
                    }
                    if (rc != 0) {
                        LOG.error("libxl_osevent_beforepoll failed: rc={} ({}); domain events stop", rc, errorName(rc));
                        return;
                    }
                    count = nfds.get(JAVA_INT, 0);
                } finally {
                    lifecycle.readLock().unlock();
                }
                int wait = timeout.get(JAVA_INT, 0);
                wait = wait < 0 ? EVENT_POLL_CAP_MILLIS : Math.min(wait, EVENT_POLL_CAP_MILLIS);
                LibcNative.poll(errno, fds, count, wait);
                List<DomainEvent> happened = new ArrayList<>();
                List<Long> users = new ArrayList<>();
                lifecycle.readLock().lock();
                try {
                    if (lifecycle.isClosed()) {
                        return;
                    }
                    LibcNative.now(now);
                    libxl_osevent_afterpoll(ctx, count, fds, now);
                    while (libxl_event_check(ctx, eventOut, LIBXL_EVENTMASK_ALL, MemorySegment.NULL,
                            MemorySegment.NULL) == 0) {
                        MemorySegment event = eventOut.get(ADDRESS, 0).reinterpret(LIBXL_EVENT.byteSize());
                        try {
                            decode(event).ifPresent(e -> {
                                happened.add(e);
                                users.add(event.get(JAVA_LONG, off(LIBXL_EVENT, "for_user")));
                            });
                        } finally {
                            libxl_event_free(ctx, event);
                        }
                    }
                } finally {
                    lifecycle.readLock().unlock();
                }
                for (int i = 0; i < happened.size(); i++) {
                    Listener listener = listeners.get(users.get(i));
                    if (listener == null) {
                        continue;
                    }
                    try {
                        listener.consumer().accept(withUuid(happened.get(i), listener.uuid()));
                    } catch (RuntimeException e) {
                        LOG.error("domain event listener failed on {}", happened.get(i), e);
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.error("libxl event thread stopped", e);
        }
    }

    private static DomainEvent withUuid(DomainEvent event, UUID uuid) {
        if (!event.uuid().equals(new UUID(0, 0))) {
            return event;
        }
        return switch (event) {
            case DomainEvent.Shutdown s -> new DomainEvent.Shutdown(s.domid(), uuid, s.reason());
            case DomainEvent.Death d -> new DomainEvent.Death(d.domid(), uuid);
        };
    }

    private static Optional<DomainEvent> decode(MemorySegment event) {
        int type = event.get(JAVA_INT, off(LIBXL_EVENT, "type"));
        int domid = event.get(JAVA_INT, off(LIBXL_EVENT, "domid"));
        UUID uuid = uuidAt(event, off(LIBXL_EVENT, "domuuid"));
        return switch (type) {
            case LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN -> Optional.of(new DomainEvent.Shutdown(domid, uuid,
                    ShutdownReason.of(Byte.toUnsignedInt(event.get(JAVA_BYTE, off(LIBXL_EVENT, "u"))))));
            case LIBXL_EVENT_TYPE_DOMAIN_DEATH -> Optional.of(new DomainEvent.Death(domid, uuid));
            default -> {
                LOG.debug("ignoring libxl event type {} for domain {}", type, domid);
                yield Optional.empty();
            }
        };
    }

    @SuppressWarnings("unused") // upcall from libxl: must not call libxl, must not throw
    private static void disaster(MemorySegment user, int type, MemorySegment msg, int errnoval) {
        try {
            String text = "libxl disaster (event type " + type + "): " + NativeLibrary.string(msg)
                    + (errnoval > 0 ? ": " + LibcNative.describeErrno(errnoval) : "");
            LOG.error("{}; libxl calls and events may fail from now on: close and reopen the libxl context", text);
            LibxlContext context = BY_ADDRESS.get(user.address());
            if (context != null) {
                context.disaster = text;
            }
        } catch (Throwable t) {
            // nothing may escape into C
        }
    }

    /**
     * Stops the event thread, then frees the ctx ({@code libxl_ctx_free}), which also disables every watch.
     * Waits for calls in flight; later calls fail with INVALID_STATE. Idempotent.
     */
    @Override
    public void close() {
        stopping.set(true);
        Thread thread;
        synchronized (this) {
            thread = eventThread;
        }
        HandleLifecycle.awaitThread(thread);
        lifecycle.close(() -> {
            listeners.clear();
            libxl_ctx_free(ctx);
            synchronized (this) {
                if (xenstore != null) {
                    xenstore.close();
                }
            }
            BY_ADDRESS.remove(ctx.address());
            LOG.debug("libxl ctx {} freed", Long.toHexString(ctx.address()));
        });
    }

    // ---- helpers ----

    private record Parsed<T>(String json, T result) {
    }

    private interface ConfigAction<T> {
        T apply(MemorySegment cfg);
    }

    private <T> Parsed<T> withDomainConfig(String json, ConfigAction<T> action) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cfg = arena.allocate(LIBXL_DOMAIN_CONFIG);
            libxl_domain_config_init(cfg);
            try {
                ToolLogger.clearRecentErrors();
                int rc = libxl_domain_config_from_json(ctx, cfg, arena.allocateFrom(json));
                if (rc != 0) {
                    throw invalidConfig("libxl_domain_config_from_json", rc, json);
                }
                String back = takeString(libxl_domain_config_to_json(ctx, cfg));
                requireNothingDropped("libxl_domain_config", json, back);
                return new Parsed<>(back, action.apply(cfg));
            } finally {
                libxl_domain_config_dispose(cfg);
            }
        }
    }

    private static void requireNothingDropped(String type, String sent, String back) {
        if (back == null) {
            throw new CompartException(ErrorKind.HYPERVISOR, type + "_to_json returned NULL (out of memory?)");
        }
        List<String> dropped = LibxlJson.droppedFields(sent, back);
        if (!dropped.isEmpty()) {
            throw new CompartException(ErrorKind.INVALID_VALUE, type + "_from_json silently dropped or changed "
                    + dropped.size() + " field(s) of " + nameIn(sent) + ": " + String.join("; ", dropped)
                    + ". Fix the field names and JSON types (libxl_types.idl); libxl kept: " + back.strip());
        }
    }

    private static CompartException invalidConfig(String call, int rc, String json) {
        List<String> logged = ToolLogger.takeRecentErrors();
        return new CompartException(ErrorKind.INVALID_VALUE, call + " rejected " + nameIn(json) + ": rc=" + rc
                + " (" + errorName(rc) + ")" + (logged.isEmpty() ? "" : "; libxl logged: " + String.join(" | ", logged))
                + ". Check enum values (lower case, as in libxl_types.idl) and the JSON syntax");
    }

    private static String nameIn(String json) {
        int at = json.indexOf("\"name\"");
        if (at < 0) {
            return "the JSON config";
        }
        int start = json.indexOf('"', json.indexOf(':', at) + 1);
        int end = start < 0 ? -1 : json.indexOf('"', start + 1);
        return start < 0 || end < 0 ? "the JSON config" : "'" + json.substring(start + 1, end) + "'";
    }

    private interface IntCall {
        int invoke();
    }

    private void domainOp(String function, int domid, IntCall op) {
        call(() -> {
            ToolLogger.clearRecentErrors();
            check(function, op.invoke(), "domain " + domid, "check the domain's state with xl list");
            return null;
        });
    }

    private <T> T call(Supplier<T> body) {
        return lifecycle.call(body);
    }

    private static void check(String function, int rc, String subject, String advice) {
        if (rc != 0) {
            throw failure(function, rc, subject, advice);
        }
    }

    static CompartException failure(String function, int rc, String subject, String advice) {
        List<String> logged = ToolLogger.takeRecentErrors();
        ErrorKind kind = rc == ERROR_DOMAIN_NOTFOUND ? ErrorKind.NOT_FOUND : ErrorKind.HYPERVISOR;
        return new CompartException(kind, function + " failed" + (subject.isEmpty() ? "" : " for " + subject)
                + ": rc=" + rc + " (" + errorName(rc) + ")"
                + (logged.isEmpty() ? "" : "; libxl logged: " + String.join(" | ", logged)) + "; " + advice);
    }

    /** @return libxl's name for an error code, e.g. {@code ERROR_FAIL} */
    static String errorName(int rc) {
        String name = libxl_error_to_string(rc);
        if (name == null) {
            return "unknown libxl error";
        }
        String upper = name.toUpperCase(Locale.ROOT);
        return upper.startsWith("ERROR_") ? upper : "ERROR_" + upper;
    }

    private DomainInfo readDominfo(MemorySegment d) {
        int domid = d.get(JAVA_INT, DOMINFO_DOMID);
        String name;
        MemorySegment raw = libxl_domid_to_name(ctx, domid);
        name = Optional.ofNullable(takeString(raw)).orElse("");
        return new DomainInfo(domid, uuidAt(d, DOMINFO_UUID), name,
                refineType(domid, DomainType.of(d.get(JAVA_INT, DOMINFO_TYPE))),
                d.get(JAVA_BOOLEAN, DOMINFO_RUNNING), d.get(JAVA_BOOLEAN, DOMINFO_BLOCKED),
                d.get(JAVA_BOOLEAN, DOMINFO_PAUSED), d.get(JAVA_BOOLEAN, DOMINFO_SHUTDOWN),
                d.get(JAVA_BOOLEAN, DOMINFO_DYING), d.get(JAVA_BOOLEAN, DOMINFO_NEVER_STOP),
                ShutdownReason.of(d.get(JAVA_INT, DOMINFO_SHUTDOWN_REASON)),
                d.get(JAVA_LONG, DOMINFO_CURRENT), d.get(JAVA_LONG, DOMINFO_MAX), d.get(JAVA_LONG, DOMINFO_OUTSTANDING),
                d.get(JAVA_LONG, DOMINFO_CPU_TIME), d.get(JAVA_INT, DOMINFO_VCPU_MAX_ID),
                d.get(JAVA_INT, DOMINFO_VCPU_ONLINE), d.get(JAVA_INT, DOMINFO_CPUPOOL));
    }

    /**
     * libxl_dominfo says HVM for PVH guests too (both are hardware containers); libxl itself keeps the real type in
     * xenstore at {@code /libxl/<domid>/type}, as {@code libxl__domain_type} reads it.
     */
    private DomainType refineType(int domid, DomainType reported) {
        if (reported != DomainType.HVM) {
            return reported;
        }
        try {
            XenStore xs;
            synchronized (this) {
                if (xenstore == null) {
                    xenstore = XenStore.open();
                }
                xs = xenstore;
            }
            return xs.read("/libxl/" + domid + "/type")
                    .map(t -> DomainType.valueOf(t.strip().toUpperCase(Locale.ROOT)))
                    .orElse(reported);
        } catch (CompartException | IllegalArgumentException e) {
            LOG.warn("cannot read the type of domain {} from xenstore, reporting {}: {}", domid, reported, e.getMessage());
            return reported;
        }
    }

    private static UUID uuidAt(MemorySegment s, long offset) {
        return new UUID(s.get(UUID_HALF, offset), s.get(UUID_HALF, offset + 8));
    }

    /** Copies a malloc'd C string and frees it; NULL gives null. */
    private static String takeString(MemorySegment raw) {
        if (raw.equals(MemorySegment.NULL)) {
            return null;
        }
        try {
            return NativeLibrary.string(raw);
        } finally {
            LibcNative.free(raw);
        }
    }

    private static String stringField(MemorySegment s, StructLayout layout, String field) {
        String value = NativeLibrary.string(s.get(ADDRESS, off(layout, field)));
        return value == null ? "" : value;
    }

    private static long off(MemoryLayout layout, String field) {
        return layout.byteOffset(groupElement(field));
    }
}
