package compart.xl.libxl;

import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * One domain as {@code libxl_list_domain} / {@code libxl_domain_info} report it, plus its name from xenstore.
 *
 * @param domid          the domain id (0 = Domain-0)
 * @param uuid           the domain's handle
 * @param name           the name in xenstore; empty when the domain has none (being created or destroyed)
 * @param type           PV, PVH or HVM (libxl_dominfo says HVM for PVH; the type is then read from xenstore
 *                       {@code /libxl/<domid>/type}, where libxl records it)
 * @param running        currently running on a CPU
 * @param blocked        waiting for an event
 * @param paused         paused by the toolstack
 * @param shutdown       the guest has shut down (see {@link #shutdownReason()})
 * @param dying          being destroyed
 * @param neverStop      marked never-stop (e.g. dom0)
 * @param shutdownReason the reason, meaningful only when {@code shutdown}
 * @param currentKib     memory the domain has now, KiB
 * @param maxKib         the domain's memory limit, KiB
 * @param outstandingKib claimed but not allocated, KiB
 * @param cpuTimeNanos   CPU time used, ns
 * @param vcpuMaxId      the largest vCPU id
 * @param vcpusOnline    vCPUs online
 * @param cpupool        the CPU pool id
 */
public record DomainInfo(int domid, UUID uuid, String name, DomainType type, boolean running, boolean blocked,
                         boolean paused, boolean shutdown, boolean dying, boolean neverStop,
                         ShutdownReason shutdownReason, long currentKib, long maxKib, long outstandingKib,
                         long cpuTimeNanos, int vcpuMaxId, int vcpusOnline, int cpupool) {
    public DomainInfo {
        if (domid < 0) {
            throw new IllegalArgumentException("domid must be >= 0, got " + domid);
        }
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(shutdownReason, "shutdownReason");
    }

    /** @return the shutdown reason when the domain has shut down, else empty */
    public Optional<ShutdownReason> shutdownReasonIfShutdown() {
        return shutdown ? Optional.of(shutdownReason) : Optional.empty();
    }
}
