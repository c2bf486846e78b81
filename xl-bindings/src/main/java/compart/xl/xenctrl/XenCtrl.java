package compart.xl.xenctrl;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.xl.foreign.HandleLifecycle;
import compart.xl.foreign.LibcNative;
import compart.xl.foreign.NativeLibrary;
import compart.xl.foreign.ToolLogger;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

import static compart.xl.xenctrl.XenCtrlNative.*;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A libxenctrl handle ({@code xc_interface_open}) for what libxl does not offer: the raw domain list of one
 * hypercall and the raw physinfo. Prefer {@link compart.xl.libxl.LibxlContext} for everything else.
 *
 * <p>Thread-safe (libxenctrl handles may be shared); {@link #close()} waits for calls in flight. Failures are
 * {@link CompartException}s of kind HYPERVISOR naming the function and errno.
 */
public final class XenCtrl implements AutoCloseable {
    private static final ValueLayout.OfLong UUID_HALF = JAVA_LONG.withOrder(ByteOrder.BIG_ENDIAN).withByteAlignment(1);
    private static final int DOMID_FIRST_RESERVED = 0x7FF0;

    private final MemorySegment xch;
    private final HandleLifecycle lifecycle = new HandleLifecycle("the xenctrl handle");

    private XenCtrl(MemorySegment xch) {
        this.xch = xch;
    }

    /**
     * Opens {@code /dev/xen/privcmd} through libxenctrl, logging to SLF4J.
     *
     * @throws CompartException HYPERVISOR when libxenctrl is missing or this is not a Xen dom0
     */
    public static XenCtrl open() {
        XenCtrlNative.load();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeLibrary.errnoState(arena);
            ToolLogger.clearRecentErrors();
            MemorySegment xch = xc_interface_open(errno, ToolLogger.logger(), ToolLogger.logger(), 0);
            if (xch.equals(MemorySegment.NULL)) {
                List<String> logged = ToolLogger.takeRecentErrors();
                throw new CompartException(ErrorKind.HYPERVISOR, "xc_interface_open failed: "
                        + LibcNative.describeErrno(NativeLibrary.errno(errno))
                        + (logged.isEmpty() ? "" : "; libxenctrl logged: " + String.join(" | ", logged))
                        + "; is this a Xen dom0? Check /dev/xen/privcmd (xen-privcmd module, xenfs on /proc/xen) and run as root");
            }
            return new XenCtrl(xch);
        }
    }

    /** @return the host's raw physinfo ({@code xc_physinfo}) */
    public XcPhysInfo physInfo() {
        return call(arena -> {
            MemorySegment info = arena.allocate(XC_PHYSINFO_T);
            MemorySegment errno = NativeLibrary.errnoState(arena);
            if (xc_physinfo(errno, xch, info) != 0) {
                throw failure("xc_physinfo", errno);
            }
            int caps = info.get(JAVA_INT, off("capabilities"));
            return new XcPhysInfo(info.get(JAVA_INT, off("threads_per_core")), info.get(JAVA_INT, off("cores_per_socket")),
                    info.get(JAVA_INT, off("nr_cpus")), info.get(JAVA_INT, off("max_cpu_id")),
                    info.get(JAVA_INT, off("nr_nodes")), info.get(JAVA_INT, off("max_node_id")),
                    info.get(JAVA_INT, off("cpu_khz")), (caps & XEN_SYSCTL_PHYSCAP_hvm) != 0,
                    (caps & XEN_SYSCTL_PHYSCAP_pv) != 0, (caps & XEN_SYSCTL_PHYSCAP_hap) != 0,
                    info.get(JAVA_LONG, off("total_pages")), info.get(JAVA_LONG, off("free_pages")),
                    info.get(JAVA_LONG, off("scrub_pages")), info.get(JAVA_LONG, off("outstanding_pages")),
                    info.get(JAVA_LONG, off("max_mfn")));
        });
    }

    /**
     * @param firstDomid the lowest domid to report
     * @param max        how many domains at most
     * @return the domains with domid &gt;= {@code firstDomid}, in domid order ({@code xc_domain_getinfolist})
     */
    public List<XcDomainInfo> domains(int firstDomid, int max) {
        if (firstDomid < 0 || max <= 0 || max > DOMID_FIRST_RESERVED) {
            throw CompartException.invalidValue("xc_domain_getinfolist needs firstDomid >= 0 and 1 <= max <= %d, got %d, %d",
                    DOMID_FIRST_RESERVED, firstDomid, max);
        }
        return call(arena -> {
            MemorySegment array = arena.allocate(XC_DOMAININFO_T, max);
            MemorySegment errno = NativeLibrary.errnoState(arena);
            int n = xc_domain_getinfolist(errno, xch, firstDomid, max, array);
            if (n < 0) {
                throw failure("xc_domain_getinfolist", errno);
            }
            List<XcDomainInfo> domains = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                MemorySegment d = array.asSlice(i * XC_DOMAININFO_T.byteSize(), XC_DOMAININFO_T);
                int flags = d.get(JAVA_INT, off2("flags"));
                long handle = off2("handle");
                domains.add(new XcDomainInfo(Short.toUnsignedInt(d.get(JAVA_SHORT, off2("domain"))),
                        new UUID(d.get(UUID_HALF, handle), d.get(UUID_HALF, handle + 8)),
                        (flags & XEN_DOMINF_dying) != 0, (flags & XEN_DOMINF_hvm_guest) != 0,
                        (flags & XEN_DOMINF_shutdown) != 0, (flags & XEN_DOMINF_paused) != 0,
                        (flags & XEN_DOMINF_blocked) != 0, (flags & XEN_DOMINF_running) != 0,
                        (flags >>> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask,
                        d.get(JAVA_LONG, off2("tot_pages")), d.get(JAVA_LONG, off2("max_pages")),
                        d.get(JAVA_LONG, off2("cpu_time")), d.get(JAVA_INT, off2("nr_online_vcpus")),
                        d.get(JAVA_INT, off2("max_vcpu_id")), d.get(JAVA_INT, off2("cpupool"))));
            }
            return List.copyOf(domains);
        });
    }

    /** @return every domain ({@code xc_domain_getinfolist} from domid 0) */
    public List<XcDomainInfo> domains() {
        return domains(0, 1024);
    }

    /** Closes the handle ({@code xc_interface_close}). Idempotent. */
    @Override
    public void close() {
        lifecycle.close(() -> xc_interface_close(xch));
    }

    private <T> T call(Function<Arena, T> body) {
        return lifecycle.callInArena(body);
    }

    private static CompartException failure(String function, MemorySegment errno) {
        return new CompartException(ErrorKind.HYPERVISOR, function + " failed: "
                + LibcNative.describeErrno(NativeLibrary.errno(errno)) + "; check the hypervisor with xl info / xl dmesg");
    }

    private static long off(String field) {
        return XC_PHYSINFO_T.byteOffset(groupElement(field));
    }

    private static long off2(String field) {
        return XC_DOMAININFO_T.byteOffset(groupElement(field));
    }
}
