package compart.xl.libxl;

import compart.xl.foreign.LibcNative;
import compart.xl.foreign.NativeLibrary;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SequenceLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.UnionLayout;
import java.lang.invoke.MethodHandle;

import static compart.xl.foreign.NativeLibrary.rethrow;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Raw FFM binding to {@code libxenlight.so.4.17} (Xen 4.17), written by hand in jextract's style: one method per
 * C function quoting its prototype, and {@code MemoryLayout}s named exactly like the C structs and fields.
 * {@code LayoutProbeTest} compares every layout and constant here with the installed headers.
 *
 * <p>Only the small output structs are declared field by field; {@code libxl_domain_config} and the device
 * structs cross the boundary as JSON and are handled as opaque blocks of the right size. Functions take and
 * return raw segments and C return codes: checking them is the job of {@link LibxlContext}. The library is
 * loaded on first use of a function ({@link #load()}), not when the layouts are touched.
 */
final class LibxlNative {
    private LibxlNative() {
    }

    static final String SONAME = "libxenlight.so.4.17";

    // ---- constants (libxl.h, libxl_event.h, _libxl_types.h) ----
    static final int LIBXL_VERSION = 0;
    static final long LIBXL_EVENTMASK_ALL = -1L;
    static final int ERROR_VERSION = -2, ERROR_FAIL = -3, ERROR_NOMEM = -5, ERROR_INVAL = -6, ERROR_NOT_READY = -11,
            ERROR_BUFFERFULL = -13, ERROR_DOMAIN_NOTFOUND = -21, ERROR_NOTFOUND = -23;
    static final int LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN = 1, LIBXL_EVENT_TYPE_DOMAIN_DEATH = 2,
            LIBXL_EVENT_TYPE_DISK_EJECT = 3, LIBXL_EVENT_TYPE_OPERATION_COMPLETE = 4,
            LIBXL_EVENT_TYPE_DOMAIN_CREATE_CONSOLE_AVAILABLE = 5;
    static final int LIBXL_SHUTDOWN_REASON_UNKNOWN = -1, LIBXL_SHUTDOWN_REASON_POWEROFF = 0,
            LIBXL_SHUTDOWN_REASON_REBOOT = 1, LIBXL_SHUTDOWN_REASON_SUSPEND = 2, LIBXL_SHUTDOWN_REASON_CRASH = 3,
            LIBXL_SHUTDOWN_REASON_WATCHDOG = 4, LIBXL_SHUTDOWN_REASON_SOFT_RESET = 5;
    static final int LIBXL_DOMAIN_TYPE_INVALID = -1, LIBXL_DOMAIN_TYPE_HVM = 1, LIBXL_DOMAIN_TYPE_PV = 2,
            LIBXL_DOMAIN_TYPE_PVH = 3;
    static final int LIBXL_CONSOLE_TYPE_SERIAL = 1, LIBXL_CONSOLE_TYPE_PV = 2;
    static final int libxl_sigchld_owner_libxl = 0, libxl_sigchld_owner_mainloop = 1,
            libxl_sigchld_owner_libxl_always = 2, libxl_sigchld_owner_libxl_always_selective_reap = 3;
    static final int LIBXL_HAVE_SIGCHLD_OWNER_SELECTIVE_REAP = 1;

    // ---- layouts ----

    /** {@snippet lang=c : typedef struct { unsigned char uuid[16]; } libxl_uuid; } */
    static final StructLayout LIBXL_UUID = structLayout(sequenceLayout(16, JAVA_BYTE).withName("uuid"))
            .withName("libxl_uuid");

    /** {@snippet lang=c : typedef struct libxl_dominfo { libxl_uuid uuid; libxl_domid domid; ... } libxl_dominfo; } */
    static final StructLayout LIBXL_DOMINFO = structLayout(
            LIBXL_UUID.withName("uuid"),
            JAVA_INT.withName("domid"),
            JAVA_INT.withName("ssidref"),
            ADDRESS.withName("ssid_label"),
            JAVA_BOOLEAN.withName("running"),
            JAVA_BOOLEAN.withName("blocked"),
            JAVA_BOOLEAN.withName("paused"),
            JAVA_BOOLEAN.withName("shutdown"),
            JAVA_BOOLEAN.withName("dying"),
            JAVA_BOOLEAN.withName("never_stop"),
            paddingLayout(2),
            JAVA_INT.withName("shutdown_reason"),
            paddingLayout(4),
            JAVA_LONG.withName("outstanding_memkb"),
            JAVA_LONG.withName("current_memkb"),
            JAVA_LONG.withName("shared_memkb"),
            JAVA_LONG.withName("paged_memkb"),
            JAVA_LONG.withName("max_memkb"),
            JAVA_LONG.withName("cpu_time"),
            JAVA_INT.withName("vcpu_max_id"),
            JAVA_INT.withName("vcpu_online"),
            JAVA_INT.withName("cpupool"),
            JAVA_BYTE.withName("gpaddr_bits"),
            paddingLayout(3),
            JAVA_INT.withName("domain_type"),
            paddingLayout(4)).withName("libxl_dominfo");

    /** {@snippet lang=c : typedef struct libxl_physinfo { uint32_t threads_per_core; ... bool cap_gnttab_v2; } libxl_physinfo; } */
    static final StructLayout LIBXL_PHYSINFO = structLayout(
            JAVA_INT.withName("threads_per_core"),
            JAVA_INT.withName("cores_per_socket"),
            JAVA_INT.withName("max_cpu_id"),
            JAVA_INT.withName("nr_cpus"),
            JAVA_INT.withName("cpu_khz"),
            paddingLayout(4),
            JAVA_LONG.withName("total_pages"),
            JAVA_LONG.withName("free_pages"),
            JAVA_LONG.withName("scrub_pages"),
            JAVA_LONG.withName("outstanding_pages"),
            JAVA_LONG.withName("sharing_freed_pages"),
            JAVA_LONG.withName("sharing_used_frames"),
            JAVA_LONG.withName("max_possible_mfn"),
            JAVA_INT.withName("nr_nodes"),
            sequenceLayout(8, JAVA_INT).withName("hw_cap"),
            JAVA_BOOLEAN.withName("cap_hvm"),
            JAVA_BOOLEAN.withName("cap_pv"),
            JAVA_BOOLEAN.withName("cap_hvm_directio"),
            JAVA_BOOLEAN.withName("cap_hap"),
            JAVA_BOOLEAN.withName("cap_shadow"),
            JAVA_BOOLEAN.withName("cap_iommu_hap_pt_share"),
            JAVA_BOOLEAN.withName("cap_vmtrace"),
            JAVA_BOOLEAN.withName("cap_vpmu"),
            JAVA_BOOLEAN.withName("cap_gnttab_v1"),
            JAVA_BOOLEAN.withName("cap_gnttab_v2"),
            paddingLayout(2)).withName("libxl_physinfo");

    /** {@snippet lang=c : typedef struct libxl_version_info { int xen_version_major; ... char * build_id; } libxl_version_info; } */
    static final StructLayout LIBXL_VERSION_INFO = structLayout(
            JAVA_INT.withName("xen_version_major"),
            JAVA_INT.withName("xen_version_minor"),
            ADDRESS.withName("xen_version_extra"),
            ADDRESS.withName("compiler"),
            ADDRESS.withName("compile_by"),
            ADDRESS.withName("compile_domain"),
            ADDRESS.withName("compile_date"),
            ADDRESS.withName("capabilities"),
            ADDRESS.withName("changeset"),
            JAVA_LONG.withName("virt_start"),
            JAVA_INT.withName("pagesize"),
            paddingLayout(4),
            ADDRESS.withName("commandline"),
            ADDRESS.withName("build_id")).withName("libxl_version_info");

    /** Opaque: {@code libxl_domain_config} (init/dispose/from_json are done by libxl). */
    static final SequenceLayout LIBXL_DOMAIN_CONFIG = sequenceLayout(1288 / 8, JAVA_LONG).withName("libxl_domain_config");
    /** Opaque: {@code libxl_device_disk}. */
    static final SequenceLayout LIBXL_DEVICE_DISK = sequenceLayout(144 / 8, JAVA_LONG).withName("libxl_device_disk");
    /** Opaque: {@code libxl_device_nic}. */
    static final SequenceLayout LIBXL_DEVICE_NIC = sequenceLayout(504 / 8, JAVA_LONG).withName("libxl_device_nic");

    /**
     * {@snippet lang=c :
     * typedef struct libxl_event {
     *     libxl_ev_link link;  libxl_domid domid;  libxl_uuid domuuid;  uint64_t for_user;  libxl_event_type type;
     *     union { struct { uint8_t shutdown_reason; } domain_shutdown;
     *             struct { char * vdev; libxl_device_disk disk; } disk_eject;
     *             struct { int rc; } operation_complete; } u;
     * } libxl_event;
     * }
     */
    static final UnionLayout LIBXL_EVENT_U = MemoryLayout.unionLayout(
            structLayout(JAVA_BYTE.withName("shutdown_reason")).withName("domain_shutdown"),
            structLayout(ADDRESS.withName("vdev"), LIBXL_DEVICE_DISK.withName("disk")).withName("disk_eject"),
            structLayout(JAVA_INT.withName("rc")).withName("operation_complete"));
    static final StructLayout LIBXL_EVENT = structLayout(
            structLayout(ADDRESS.withName("tqe_next"), ADDRESS.withName("tqe_prev")).withName("link"),
            JAVA_INT.withName("domid"),
            LIBXL_UUID.withName("domuuid"),
            paddingLayout(4),
            JAVA_LONG.withName("for_user"),
            JAVA_INT.withName("type"),
            paddingLayout(4),
            LIBXL_EVENT_U.withName("u")).withName("libxl_event");

    /**
     * {@snippet lang=c :
     * typedef struct libxl_event_hooks {
     *     uint64_t event_occurs_mask;
     *     void (*event_occurs)(void *user, libxl_event *event);
     *     void (*disaster)(void *user, libxl_event_type type, const char *msg, int errnoval);
     * } libxl_event_hooks;
     * }
     */
    static final StructLayout LIBXL_EVENT_HOOKS = structLayout(
            JAVA_LONG.withName("event_occurs_mask"), ADDRESS.withName("event_occurs"), ADDRESS.withName("disaster"))
            .withName("libxl_event_hooks");
    static final FunctionDescriptor DISASTER = FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS, JAVA_INT);

    /**
     * {@snippet lang=c :
     * typedef struct {
     *     libxl_sigchld_owner chldowner;
     *     pid_t (*fork_replacement)(void *user);
     *     int (*reaped_callback)(pid_t, int status, void *user);
     * } libxl_childproc_hooks;
     * }
     */
    static final StructLayout LIBXL_CHILDPROC_HOOKS = structLayout(
            JAVA_INT.withName("chldowner"), paddingLayout(4),
            ADDRESS.withName("fork_replacement"), ADDRESS.withName("reaped_callback"))
            .withName("libxl_childproc_hooks");

    // ---- functions ----

    private static final FunctionDescriptor CTX_DOMID_AOHOW = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS);
    private static final FunctionDescriptor VOID_PTR = FunctionDescriptor.ofVoid(ADDRESS);
    private static final FunctionDescriptor INT_CTX_PTR_STR = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
    private static final FunctionDescriptor STR_CTX_PTR = FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS);
    private static final FunctionDescriptor DEVICE_OP = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);

    /** Loads the library (once). @throws compart.errors.CompartException HYPERVISOR when it is not installed */
    static NativeLibrary load() {
        return NativeLibrary.load(SONAME, "libxenmisc4.17");
    }

    static final class Handles {
        private Handles() {
        }

        static final NativeLibrary LIB = load();
        static final MethodHandle libxl_ctx_alloc = LIB.downcall("libxl_ctx_alloc",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle libxl_ctx_free = LIB.downcall("libxl_ctx_free", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle libxl_childproc_setmode = LIB.downcall("libxl_childproc_setmode",
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle libxl_event_register_callbacks = LIB.downcall("libxl_event_register_callbacks",
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle libxl_get_version_info = LIB.downcall("libxl_get_version_info",
                FunctionDescriptor.of(ADDRESS, ADDRESS));
        static final MethodHandle libxl_physinfo_init = LIB.downcall("libxl_physinfo_init", VOID_PTR);
        static final MethodHandle libxl_physinfo_dispose = LIB.downcall("libxl_physinfo_dispose", VOID_PTR);
        static final MethodHandle libxl_get_physinfo = LIB.downcall("libxl_get_physinfo",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle libxl_list_domain = LIB.downcall("libxl_list_domain",
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle libxl_dominfo_list_free = LIB.downcall("libxl_dominfo_list_free",
                FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT));
        static final MethodHandle libxl_dominfo_init = LIB.downcall("libxl_dominfo_init", VOID_PTR);
        static final MethodHandle libxl_dominfo_dispose = LIB.downcall("libxl_dominfo_dispose", VOID_PTR);
        static final MethodHandle libxl_domain_info = LIB.downcall("libxl_domain_info",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle libxl_domid_to_name = LIB.downcall("libxl_domid_to_name",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle libxl_name_to_domid = LIB.downcall("libxl_name_to_domid", INT_CTX_PTR_STR);
        static final MethodHandle libxl_domain_config_init = LIB.downcall("libxl_domain_config_init", VOID_PTR);
        static final MethodHandle libxl_domain_config_dispose = LIB.downcall("libxl_domain_config_dispose", VOID_PTR);
        static final MethodHandle libxl_domain_config_from_json = LIB.downcall("libxl_domain_config_from_json",
                INT_CTX_PTR_STR);
        static final MethodHandle libxl_domain_config_to_json = LIB.downcall("libxl_domain_config_to_json", STR_CTX_PTR);
        static final MethodHandle libxl_domain_create_new = LIB.downcall("libxl_domain_create_new",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle libxl_domain_unpause = LIB.downcall("libxl_domain_unpause", CTX_DOMID_AOHOW);
        static final MethodHandle libxl_domain_pause = LIB.downcall("libxl_domain_pause", CTX_DOMID_AOHOW);
        static final MethodHandle libxl_domain_shutdown = LIB.downcall("libxl_domain_shutdown", CTX_DOMID_AOHOW);
        static final MethodHandle libxl_domain_reboot = LIB.downcall("libxl_domain_reboot", CTX_DOMID_AOHOW);
        static final MethodHandle libxl_domain_destroy = LIB.downcall("libxl_domain_destroy", CTX_DOMID_AOHOW);
        static final MethodHandle libxl_set_memory_target = LIB.downcall("libxl_set_memory_target",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT));
        static final MethodHandle libxl_domain_need_memory = LIB.downcall("libxl_domain_need_memory",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        static final MethodHandle libxl_device_disk_init = LIB.downcall("libxl_device_disk_init", VOID_PTR);
        static final MethodHandle libxl_device_disk_dispose = LIB.downcall("libxl_device_disk_dispose", VOID_PTR);
        static final MethodHandle libxl_device_disk_from_json = LIB.downcall("libxl_device_disk_from_json",
                INT_CTX_PTR_STR);
        static final MethodHandle libxl_device_disk_to_json = LIB.downcall("libxl_device_disk_to_json", STR_CTX_PTR);
        static final MethodHandle libxl_device_disk_add = LIB.downcall("libxl_device_disk_add", DEVICE_OP);
        static final MethodHandle libxl_device_disk_remove = LIB.downcall("libxl_device_disk_remove", DEVICE_OP);
        static final MethodHandle libxl_device_nic_init = LIB.downcall("libxl_device_nic_init", VOID_PTR);
        static final MethodHandle libxl_device_nic_dispose = LIB.downcall("libxl_device_nic_dispose", VOID_PTR);
        static final MethodHandle libxl_device_nic_from_json = LIB.downcall("libxl_device_nic_from_json",
                INT_CTX_PTR_STR);
        static final MethodHandle libxl_device_nic_to_json = LIB.downcall("libxl_device_nic_to_json", STR_CTX_PTR);
        static final MethodHandle libxl_device_nic_add = LIB.downcall("libxl_device_nic_add", DEVICE_OP);
        static final MethodHandle libxl_device_nic_remove = LIB.downcall("libxl_device_nic_remove", DEVICE_OP);
        static final MethodHandle libxl_console_get_tty = LIB.downcall("libxl_console_get_tty",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle libxl_primary_console_get_tty = LIB.downcall("libxl_primary_console_get_tty",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        static final MethodHandle libxl_evenable_domain_death = LIB.downcall("libxl_evenable_domain_death",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS));
        static final MethodHandle libxl_evdisable_domain_death = LIB.downcall("libxl_evdisable_domain_death",
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
        static final MethodHandle libxl_event_check = LIB.downcall("libxl_event_check",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
        static final MethodHandle libxl_event_free = LIB.downcall("libxl_event_free",
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
        static final MethodHandle libxl_osevent_beforepoll = LIB.downcall("libxl_osevent_beforepoll",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, LibcNative.TIMEVAL));
        static final MethodHandle libxl_osevent_afterpoll = LIB.downcall("libxl_osevent_afterpoll",
                FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS, LibcNative.TIMEVAL));
        static final MethodHandle libxl_error_to_string = LIB.downcall("libxl_error_to_string",
                FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /** {@snippet lang=c : int libxl_ctx_alloc(libxl_ctx **pctx, int version, unsigned flags, xentoollog_logger *lg); } */
    static int libxl_ctx_alloc(MemorySegment pctx, int version, int flags, MemorySegment lg) {
        try { return (int) Handles.libxl_ctx_alloc.invokeExact(pctx, version, flags, lg); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_ctx_free(libxl_ctx *ctx); } */
    static int libxl_ctx_free(MemorySegment ctx) {
        try { return (int) Handles.libxl_ctx_free.invokeExact(ctx); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_childproc_setmode(libxl_ctx *ctx, const libxl_childproc_hooks *hooks, void *user); } */
    static void libxl_childproc_setmode(MemorySegment ctx, MemorySegment hooks, MemorySegment user) {
        try { Handles.libxl_childproc_setmode.invokeExact(ctx, hooks, user); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_event_register_callbacks(libxl_ctx *ctx, const libxl_event_hooks *hooks, void *user); } */
    static void libxl_event_register_callbacks(MemorySegment ctx, MemorySegment hooks, MemorySegment user) {
        try { Handles.libxl_event_register_callbacks.invokeExact(ctx, hooks, user); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : const libxl_version_info* libxl_get_version_info(libxl_ctx *ctx); } (points into the ctx) */
    static MemorySegment libxl_get_version_info(MemorySegment ctx) {
        try { return (MemorySegment) Handles.libxl_get_version_info.invokeExact(ctx); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_physinfo_init(libxl_physinfo *p); } */
    static void libxl_physinfo_init(MemorySegment p) {
        try { Handles.libxl_physinfo_init.invokeExact(p); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_physinfo_dispose(libxl_physinfo *p); } */
    static void libxl_physinfo_dispose(MemorySegment p) {
        try { Handles.libxl_physinfo_dispose.invokeExact(p); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_get_physinfo(libxl_ctx *ctx, libxl_physinfo *physinfo); } */
    static int libxl_get_physinfo(MemorySegment ctx, MemorySegment physinfo) {
        try { return (int) Handles.libxl_get_physinfo.invokeExact(ctx, physinfo); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : libxl_dominfo * libxl_list_domain(libxl_ctx*, int *nb_domain_out); } (malloc'd array) */
    static MemorySegment libxl_list_domain(MemorySegment ctx, MemorySegment nbDomainOut) {
        try { return (MemorySegment) Handles.libxl_list_domain.invokeExact(ctx, nbDomainOut); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_dominfo_list_free(libxl_dominfo *list, int nb_domain); } */
    static void libxl_dominfo_list_free(MemorySegment list, int nbDomain) {
        try { Handles.libxl_dominfo_list_free.invokeExact(list, nbDomain); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_dominfo_init(libxl_dominfo *p); } */
    static void libxl_dominfo_init(MemorySegment p) {
        try { Handles.libxl_dominfo_init.invokeExact(p); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_dominfo_dispose(libxl_dominfo *p); } */
    static void libxl_dominfo_dispose(MemorySegment p) {
        try { Handles.libxl_dominfo_dispose.invokeExact(p); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_domain_info(libxl_ctx*, libxl_dominfo *info_r, uint32_t domid); } */
    static int libxl_domain_info(MemorySegment ctx, MemorySegment infoR, int domid) {
        try { return (int) Handles.libxl_domain_info.invokeExact(ctx, infoR, domid); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : char *libxl_domid_to_name(libxl_ctx *ctx, uint32_t domid); } (malloc'd) */
    static MemorySegment libxl_domid_to_name(MemorySegment ctx, int domid) {
        try { return (MemorySegment) Handles.libxl_domid_to_name.invokeExact(ctx, domid); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_name_to_domid(libxl_ctx *ctx, const char *name, uint32_t *domid); } */
    static int libxl_name_to_domid(MemorySegment ctx, MemorySegment name, MemorySegment domid) {
        try { return (int) Handles.libxl_name_to_domid.invokeExact(ctx, name, domid); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_domain_config_init(libxl_domain_config *d_config); } */
    static void libxl_domain_config_init(MemorySegment dConfig) {
        try { Handles.libxl_domain_config_init.invokeExact(dConfig); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_domain_config_dispose(libxl_domain_config *d_config); } */
    static void libxl_domain_config_dispose(MemorySegment dConfig) {
        try { Handles.libxl_domain_config_dispose.invokeExact(dConfig); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_domain_config_from_json(libxl_ctx *ctx, libxl_domain_config *p, const char *s); } */
    static int libxl_domain_config_from_json(MemorySegment ctx, MemorySegment p, MemorySegment s) {
        try { return (int) Handles.libxl_domain_config_from_json.invokeExact(ctx, p, s); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : char *libxl_domain_config_to_json(libxl_ctx *ctx, libxl_domain_config *p); } (malloc'd) */
    static MemorySegment libxl_domain_config_to_json(MemorySegment ctx, MemorySegment p) {
        try { return (MemorySegment) Handles.libxl_domain_config_to_json.invokeExact(ctx, p); } catch (Throwable t) { throw rethrow(t); }
    }

    /**
     * {@snippet lang=c :
     * int libxl_domain_create_new(libxl_ctx *ctx, libxl_domain_config *d_config, uint32_t *domid,
     *                             const libxl_asyncop_how *ao_how, const libxl_asyncprogress_how *aop_console_how);
     * }
     */
    static int libxl_domain_create_new(MemorySegment ctx, MemorySegment dConfig, MemorySegment domid,
                                       MemorySegment aoHow, MemorySegment aopConsoleHow) {
        try { return (int) Handles.libxl_domain_create_new.invokeExact(ctx, dConfig, domid, aoHow, aopConsoleHow); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_domain_unpause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how); } */
    static int libxl_domain_unpause(MemorySegment ctx, int domid, MemorySegment aoHow) {
        try { return (int) Handles.libxl_domain_unpause.invokeExact(ctx, domid, aoHow); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_domain_pause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how); } */
    static int libxl_domain_pause(MemorySegment ctx, int domid, MemorySegment aoHow) {
        try { return (int) Handles.libxl_domain_pause.invokeExact(ctx, domid, aoHow); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_domain_shutdown(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how); } */
    static int libxl_domain_shutdown(MemorySegment ctx, int domid, MemorySegment aoHow) {
        try { return (int) Handles.libxl_domain_shutdown.invokeExact(ctx, domid, aoHow); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_domain_reboot(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how); } */
    static int libxl_domain_reboot(MemorySegment ctx, int domid, MemorySegment aoHow) {
        try { return (int) Handles.libxl_domain_reboot.invokeExact(ctx, domid, aoHow); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_domain_destroy(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how); } */
    static int libxl_domain_destroy(MemorySegment ctx, int domid, MemorySegment aoHow) {
        try { return (int) Handles.libxl_domain_destroy.invokeExact(ctx, domid, aoHow); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_set_memory_target(libxl_ctx *ctx, uint32_t domid, int64_t target_memkb, int relative, int enforce); } */
    static int libxl_set_memory_target(MemorySegment ctx, int domid, long targetMemkb, int relative, int enforce) {
        try { return (int) Handles.libxl_set_memory_target.invokeExact(ctx, domid, targetMemkb, relative, enforce); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_domain_need_memory(libxl_ctx *ctx, libxl_domain_config *config, uint32_t domid_for_logging, uint64_t *need_memkb); } */
    static int libxl_domain_need_memory(MemorySegment ctx, MemorySegment config, int domidForLogging,
                                        MemorySegment needMemkb) {
        try { return (int) Handles.libxl_domain_need_memory.invokeExact(ctx, config, domidForLogging, needMemkb); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_device_disk_init(libxl_device_disk *p); } */
    static void libxl_device_disk_init(MemorySegment p) {
        try { Handles.libxl_device_disk_init.invokeExact(p); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_device_disk_dispose(libxl_device_disk *p); } */
    static void libxl_device_disk_dispose(MemorySegment p) {
        try { Handles.libxl_device_disk_dispose.invokeExact(p); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_device_disk_from_json(libxl_ctx *ctx, libxl_device_disk *p, const char *s); } */
    static int libxl_device_disk_from_json(MemorySegment ctx, MemorySegment p, MemorySegment s) {
        try { return (int) Handles.libxl_device_disk_from_json.invokeExact(ctx, p, s); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : char *libxl_device_disk_to_json(libxl_ctx *ctx, libxl_device_disk *p); } (malloc'd) */
    static MemorySegment libxl_device_disk_to_json(MemorySegment ctx, MemorySegment p) {
        try { return (MemorySegment) Handles.libxl_device_disk_to_json.invokeExact(ctx, p); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_device_disk_add(libxl_ctx *ctx, uint32_t domid, libxl_device_disk *disk, const libxl_asyncop_how *ao_how); } */
    static int libxl_device_disk_add(MemorySegment ctx, int domid, MemorySegment disk, MemorySegment aoHow) {
        try { return (int) Handles.libxl_device_disk_add.invokeExact(ctx, domid, disk, aoHow); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_device_disk_remove(libxl_ctx *ctx, uint32_t domid, libxl_device_disk *disk, const libxl_asyncop_how *ao_how); } */
    static int libxl_device_disk_remove(MemorySegment ctx, int domid, MemorySegment disk, MemorySegment aoHow) {
        try { return (int) Handles.libxl_device_disk_remove.invokeExact(ctx, domid, disk, aoHow); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_device_nic_init(libxl_device_nic *p); } */
    static void libxl_device_nic_init(MemorySegment p) {
        try { Handles.libxl_device_nic_init.invokeExact(p); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_device_nic_dispose(libxl_device_nic *p); } */
    static void libxl_device_nic_dispose(MemorySegment p) {
        try { Handles.libxl_device_nic_dispose.invokeExact(p); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_device_nic_from_json(libxl_ctx *ctx, libxl_device_nic *p, const char *s); } */
    static int libxl_device_nic_from_json(MemorySegment ctx, MemorySegment p, MemorySegment s) {
        try { return (int) Handles.libxl_device_nic_from_json.invokeExact(ctx, p, s); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : char *libxl_device_nic_to_json(libxl_ctx *ctx, libxl_device_nic *p); } (malloc'd) */
    static MemorySegment libxl_device_nic_to_json(MemorySegment ctx, MemorySegment p) {
        try { return (MemorySegment) Handles.libxl_device_nic_to_json.invokeExact(ctx, p); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_device_nic_add(libxl_ctx *ctx, uint32_t domid, libxl_device_nic *nic, const libxl_asyncop_how *ao_how); } */
    static int libxl_device_nic_add(MemorySegment ctx, int domid, MemorySegment nic, MemorySegment aoHow) {
        try { return (int) Handles.libxl_device_nic_add.invokeExact(ctx, domid, nic, aoHow); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_device_nic_remove(libxl_ctx *ctx, uint32_t domid, libxl_device_nic *nic, const libxl_asyncop_how *ao_how); } */
    static int libxl_device_nic_remove(MemorySegment ctx, int domid, MemorySegment nic, MemorySegment aoHow) {
        try { return (int) Handles.libxl_device_nic_remove.invokeExact(ctx, domid, nic, aoHow); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_console_get_tty(libxl_ctx *ctx, uint32_t domid, int cons_num, libxl_console_type type, char **path); } */
    static int libxl_console_get_tty(MemorySegment ctx, int domid, int consNum, int type, MemorySegment path) {
        try { return (int) Handles.libxl_console_get_tty.invokeExact(ctx, domid, consNum, type, path); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_primary_console_get_tty(libxl_ctx *ctx, uint32_t domid_vm, char **path); } */
    static int libxl_primary_console_get_tty(MemorySegment ctx, int domidVm, MemorySegment path) {
        try { return (int) Handles.libxl_primary_console_get_tty.invokeExact(ctx, domidVm, path); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_evenable_domain_death(libxl_ctx *ctx, uint32_t domid, libxl_ev_user, libxl_evgen_domain_death **evgen_out); } */
    static int libxl_evenable_domain_death(MemorySegment ctx, int domid, long user, MemorySegment evgenOut) {
        try { return (int) Handles.libxl_evenable_domain_death.invokeExact(ctx, domid, user, evgenOut); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_evdisable_domain_death(libxl_ctx *ctx, libxl_evgen_domain_death*); } */
    static void libxl_evdisable_domain_death(MemorySegment ctx, MemorySegment evgen) {
        try { Handles.libxl_evdisable_domain_death.invokeExact(ctx, evgen); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_event_check(libxl_ctx *ctx, libxl_event **event_r, uint64_t typemask, libxl_event_predicate *predicate, void *predicate_user); } */
    static int libxl_event_check(MemorySegment ctx, MemorySegment eventR, long typemask, MemorySegment predicate,
                                 MemorySegment predicateUser) {
        try { return (int) Handles.libxl_event_check.invokeExact(ctx, eventR, typemask, predicate, predicateUser); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_event_free(libxl_ctx *ctx, libxl_event *event); } */
    static void libxl_event_free(MemorySegment ctx, MemorySegment event) {
        try { Handles.libxl_event_free.invokeExact(ctx, event); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int libxl_osevent_beforepoll(libxl_ctx *ctx, int *nfds_io, struct pollfd *fds, int *timeout_upd, struct timeval now); } */
    static int libxl_osevent_beforepoll(MemorySegment ctx, MemorySegment nfdsIo, MemorySegment fds,
                                        MemorySegment timeoutUpd, MemorySegment now) {
        try { return (int) Handles.libxl_osevent_beforepoll.invokeExact(ctx, nfdsIo, fds, timeoutUpd, now); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : void libxl_osevent_afterpoll(libxl_ctx *ctx, int nfds, const struct pollfd *fds, struct timeval now); } */
    static void libxl_osevent_afterpoll(MemorySegment ctx, int nfds, MemorySegment fds, MemorySegment now) {
        try { Handles.libxl_osevent_afterpoll.invokeExact(ctx, nfds, fds, now); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : const char *libxl_error_to_string(libxl_error p); } */
    static String libxl_error_to_string(int rc) {
        try { return NativeLibrary.string((MemorySegment) Handles.libxl_error_to_string.invokeExact(rc)); } catch (Throwable t) { throw rethrow(t); }
    }
}
