package compart.xl.libxl;

import java.util.Objects;
import java.util.Set;

/**
 * The host as the hypervisor sees it ({@code libxl_physinfo}). Memory is counted in pages of {@link #PAGE_KIB} KiB.
 *
 * @param threadsPerCore   hardware threads per core
 * @param coresPerSocket   cores per socket
 * @param maxCpuId         the largest possible CPU id
 * @param nrCpus           CPUs online
 * @param cpuKhz           CPU frequency in kHz
 * @param totalPages       all memory pages of the host
 * @param freePages        pages free for new domains
 * @param scrubPages       pages still being scrubbed
 * @param outstandingPages pages claimed but not yet allocated
 * @param sharingFreedPages pages freed by memory sharing
 * @param sharingUsedFrames frames used by memory sharing
 * @param maxPossibleMfn   the largest machine frame number
 * @param nrNodes          NUMA nodes
 * @param capabilities     what the hypervisor can run
 */
public record PhysInfo(int threadsPerCore, int coresPerSocket, int maxCpuId, int nrCpus, int cpuKhz, long totalPages,
                       long freePages, long scrubPages, long outstandingPages, long sharingFreedPages,
                       long sharingUsedFrames, long maxPossibleMfn, int nrNodes, Set<Capability> capabilities) {
    /** Size of a page in KiB (x86). */
    public static final long PAGE_KIB = 4;

    /** A capability bit of {@code libxl_physinfo}. */
    public enum Capability { HVM, PV, HVM_DIRECTIO, HAP, SHADOW, IOMMU_HAP_PT_SHARE, VMTRACE, VPMU, GNTTAB_V1, GNTTAB_V2 }

    public PhysInfo {
        capabilities = Set.copyOf(Objects.requireNonNull(capabilities, "capabilities"));
        if (nrCpus < 0 || totalPages < 0 || freePages < 0) {
            throw new IllegalArgumentException("negative count in physinfo: cpus=" + nrCpus + " total=" + totalPages
                    + " free=" + freePages);
        }
    }

    /** @return total host memory in KiB */
    public long totalKib() {
        return totalPages * PAGE_KIB;
    }

    /** @return memory free for new domains in KiB */
    public long freeKib() {
        return freePages * PAGE_KIB;
    }
}
