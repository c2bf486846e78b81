package compart.xl.xenctrl;

import compart.xl.foreign.NativeLibrary;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

import static compart.xl.foreign.NativeLibrary.rethrow;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Raw FFM binding to {@code libxenctrl.so.4.17} (xenctrl.h; sysctl/domctl interface version 0x15), jextract
 * style. libxenctrl's structs change with every Xen release: {@code LayoutProbeTest} checks these against the
 * installed headers.
 */
final class XenCtrlNative {
    private XenCtrlNative() {
    }

    static final String SONAME = "libxenctrl.so.4.17";

    static final int XEN_DOMINF_dying = 1, XEN_DOMINF_hvm_guest = 2, XEN_DOMINF_shutdown = 4, XEN_DOMINF_paused = 8,
            XEN_DOMINF_blocked = 16, XEN_DOMINF_running = 32, XEN_DOMINF_shutdownmask = 255,
            XEN_DOMINF_shutdownshift = 16;
    static final int XEN_SYSCTL_PHYSCAP_hvm = 1, XEN_SYSCTL_PHYSCAP_pv = 2, XEN_SYSCTL_PHYSCAP_hap = 8;

    /** {@snippet lang=c : typedef struct xen_sysctl_physinfo xc_physinfo_t; } */
    static final StructLayout XC_PHYSINFO_T = structLayout(
            JAVA_INT.withName("threads_per_core"),
            JAVA_INT.withName("cores_per_socket"),
            JAVA_INT.withName("nr_cpus"),
            JAVA_INT.withName("max_cpu_id"),
            JAVA_INT.withName("nr_nodes"),
            JAVA_INT.withName("max_node_id"),
            JAVA_INT.withName("cpu_khz"),
            JAVA_INT.withName("capabilities"),
            JAVA_INT.withName("arch_capabilities"),
            JAVA_INT.withName("pad"),
            JAVA_LONG.withName("total_pages"),
            JAVA_LONG.withName("free_pages"),
            JAVA_LONG.withName("scrub_pages"),
            JAVA_LONG.withName("outstanding_pages"),
            JAVA_LONG.withName("max_mfn"),
            sequenceLayout(8, JAVA_INT).withName("hw_cap")).withName("xc_physinfo_t");

    /** {@snippet lang=c : typedef xen_domctl_getdomaininfo_t xc_domaininfo_t; } */
    static final StructLayout XC_DOMAININFO_T = structLayout(
            JAVA_SHORT.withName("domain"),
            JAVA_SHORT.withName("pad1"),
            JAVA_INT.withName("flags"),
            JAVA_LONG.withName("tot_pages"),
            JAVA_LONG.withName("max_pages"),
            JAVA_LONG.withName("outstanding_pages"),
            JAVA_LONG.withName("shr_pages"),
            JAVA_LONG.withName("paged_pages"),
            JAVA_LONG.withName("shared_info_frame"),
            JAVA_LONG.withName("cpu_time"),
            JAVA_INT.withName("nr_online_vcpus"),
            JAVA_INT.withName("max_vcpu_id"),
            JAVA_INT.withName("ssidref"),
            sequenceLayout(16, JAVA_BYTE).withName("handle"),
            JAVA_INT.withName("cpupool"),
            JAVA_BYTE.withName("gpaddr_bits"),
            sequenceLayout(7, JAVA_BYTE).withName("pad2"),
            structLayout(JAVA_INT.withName("emulation_flags"), JAVA_INT.withName("misc_flags")).withName("arch_config"))
            .withName("xc_domaininfo_t");

    static NativeLibrary load() {
        return NativeLibrary.load(SONAME, "libxenmisc4.17");
    }

    static final class Handles {
        private Handles() {
        }

        static final NativeLibrary LIB = load();
        static final MethodHandle xc_interface_open = LIB.downcall("xc_interface_open",
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_INT), NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xc_interface_close = LIB.downcall("xc_interface_close",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle xc_physinfo = LIB.downcall("xc_physinfo",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), NativeLibrary.CAPTURE_ERRNO);
        static final MethodHandle xc_domain_getinfolist = LIB.downcall("xc_domain_getinfolist",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS), NativeLibrary.CAPTURE_ERRNO);
    }

    /** {@snippet lang=c : xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger, unsigned open_flags); } */
    static MemorySegment xc_interface_open(MemorySegment errno, MemorySegment logger, MemorySegment dombuildLogger, int flags) {
        try { return (MemorySegment) Handles.xc_interface_open.invokeExact(errno, logger, dombuildLogger, flags); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int xc_interface_close(xc_interface *xch); } */
    static int xc_interface_close(MemorySegment xch) {
        try { return (int) Handles.xc_interface_close.invokeExact(xch); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int xc_physinfo(xc_interface *xch, xc_physinfo_t *info); } */
    static int xc_physinfo(MemorySegment errno, MemorySegment xch, MemorySegment info) {
        try { return (int) Handles.xc_physinfo.invokeExact(errno, xch, info); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@snippet lang=c : int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain, unsigned int max_domains, xc_domaininfo_t *info); } */
    static int xc_domain_getinfolist(MemorySegment errno, MemorySegment xch, int firstDomain, int maxDomains, MemorySegment info) {
        try { return (int) Handles.xc_domain_getinfolist.invokeExact(errno, xch, firstDomain, maxDomains, info); } catch (Throwable t) { throw rethrow(t); }
    }
}
