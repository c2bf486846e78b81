package compart.xl.xenctrl;

import java.util.Objects;
import java.util.UUID;

/**
 * One domain as the hypervisor's {@code XEN_DOMCTL_getdomaininfo} reports it ({@code xc_domaininfo_t}): no
 * name (that lives in xenstore), but no xenstore round trip either.
 *
 * @param domid         the domain id
 * @param handle        the domain's uuid
 * @param dying         being destroyed
 * @param hvm           an HVM or PVH guest (hardware container)
 * @param shutdown      shut down; see {@code shutdownCode}
 * @param paused        paused by the toolstack
 * @param blocked       waiting for an event
 * @param running       on a CPU now
 * @param shutdownCode  the guest's SCHEDOP_shutdown code when {@code shutdown}
 * @param totalPages    pages the domain holds
 * @param maxPages      its page limit
 * @param cpuTimeNanos  CPU time used
 * @param onlineVcpus   vCPUs online
 * @param maxVcpuId     the largest vCPU id
 * @param cpupool       the CPU pool
 */
public record XcDomainInfo(int domid, UUID handle, boolean dying, boolean hvm, boolean shutdown, boolean paused,
                           boolean blocked, boolean running, int shutdownCode, long totalPages, long maxPages,
                           long cpuTimeNanos, int onlineVcpus, int maxVcpuId, int cpupool) {
    public XcDomainInfo {
        if (domid < 0) {
            throw new IllegalArgumentException("domid must be >= 0, got " + domid);
        }
        Objects.requireNonNull(handle, "handle");
    }
}
