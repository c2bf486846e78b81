import compart.volumes.LinuxKernelPoolDriver;
import compart.volumes.PoolDriver;
import compart.volumes.lvm.LvmThinPoolDriver;
import compart.volumes.reflink.FilePoolDriver;
import compart.volumes.reflink.ReflinkPoolDriver;

/** Pools and volumes with Qubes semantics, O(1) clone and snapshot-aware deduplication. */
module compart.volumes {
    requires transitive compart.errors;
    requires compart.xl;
    requires org.slf4j;
    requires com.fasterxml.jackson.databind;
    requires com.h2database;
    requires info.picocli;

    exports compart.volumes;
    exports compart.volumes.dedup;
    opens compart.volumes.dedup to info.picocli;
    opens compart.volumes.reflink to info.picocli;

    uses PoolDriver;
    provides PoolDriver with ReflinkPoolDriver, FilePoolDriver, LvmThinPoolDriver, LinuxKernelPoolDriver;
}
