package compart.xl.xenctrl;

/**
 * The host as {@code xc_physinfo} reports it (raw sysctl, pages of 4 KiB).
 *
 * @param threadsPerCore hardware threads per core
 * @param coresPerSocket cores per socket
 * @param nrCpus         CPUs online
 * @param maxCpuId       the largest possible CPU id
 * @param nrNodes        NUMA nodes online
 * @param maxNodeId      the largest possible node id
 * @param cpuKhz         CPU frequency
 * @param hvm            the hypervisor can run HVM (and PVH) guests
 * @param pv             the hypervisor can run PV guests
 * @param hap            hardware-assisted paging is available
 * @param totalPages     all pages
 * @param freePages      free pages
 * @param scrubPages     pages being scrubbed
 * @param outstandingPages claimed pages
 * @param maxMfn         the largest machine frame number
 */
public record XcPhysInfo(int threadsPerCore, int coresPerSocket, int nrCpus, int maxCpuId, int nrNodes, int maxNodeId,
                         int cpuKhz, boolean hvm, boolean pv, boolean hap, long totalPages, long freePages,
                         long scrubPages, long outstandingPages, long maxMfn) {
    public XcPhysInfo {
        if (nrCpus < 0 || totalPages < 0 || freePages < 0) {
            throw new IllegalArgumentException("negative count in xc_physinfo: cpus=" + nrCpus + " total="
                    + totalPages + " free=" + freePages);
        }
    }
}
