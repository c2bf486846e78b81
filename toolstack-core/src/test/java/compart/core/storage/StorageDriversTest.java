package compart.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.core.model.Inventory;
import compart.core.model.PoolDefinition;
import compart.core.model.QubeClass;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What core asks the pool drivers through {@link Storage} and {@link QubeStorage} instead of naming a driver. */
class StorageDriversTest {
    static final PoolDefinition KERNELS = new PoolDefinition("linux-kernel", "linux-kernel",
            Map.of("dir_path", "/kernels"));

    @TempDir
    Path dir;
    Inventory inv;
    QubeStorage work;

    @BeforeEach
    void appVmWorkWithItsKernel() {
        inv = Inventory.initial(List.of(new PoolDefinition("varlibqubes", "file-reflink",
                Map.of("dir_path", dir.toString())), KERNELS), 16384);
        inv = inv.withNewQube(QubeClass.TemplateVM, "fedora", "black", Optional.empty(), new Random(1));
        inv = inv.withGlobalProperty("default_template", "fedora");
        inv = inv.withNewQube(QubeClass.AppVM, "work", "blue", Optional.empty(), new Random(2))
                .withProperty("work", "kernel", "6.6.1");
        work = new Storage().of(inv, inv.qube("work"));
    }

    @Test
    void driverParameters_areTheTableAdminPoolListDriversPrints() {
        var lines = Storage.driverParameters().entrySet().stream()
                .map(e -> e.getKey() + " " + String.join(" ", e.getValue())).toList();
        assertThat(lines).containsExactly(
                "file dir_path revisions_to_keep ephemeral_volatile",
                "file-reflink dir_path revisions_to_keep ephemeral_volatile setup_check",
                "linux-kernel dir_path",
                "lvm_thin volume_group thin_pool revisions_to_keep ephemeral_volatile");
    }

    @Test
    void kernelPool_holdsNoVolumes_hasNoUsage_andKeepsNoRevisions() {
        var storage = new Storage();
        assertThat(Storage.holdsVolumes(KERNELS)).isFalse();
        assertThat(storage.poolUsage(KERNELS)).isEmpty();
        storage.checkNewPool(KERNELS);
        assertThat(storage.poolWithRevisionsToKeep(KERNELS, 0)).isEmpty();
        assertThatThrownBy(() -> storage.poolWithRevisionsToKeep(KERNELS, 2))
                .hasMessage("LinuxKernel supports only revisions_to_keep=0 (pool linux-kernel)");
        assertThatThrownBy(() -> storage.pool(KERNELS))
                .hasMessage("pool linux-kernel holds kernels (driver linux-kernel): it has no volumes to manage");
    }

    @Test
    void kernelVolume_isNotManaged_readOnly_notEphemeral_andIsTheKernelsModules() {
        var kernel = inv.qube("work").volumes().get("kernel");
        assertThat(work.managed(kernel)).isFalse();
        assertThat(work.checkRevisionsToKeep(kernel, 0)).isFalse();
        assertThatThrownBy(() -> work.checkRevisionsToKeep(kernel, 1))
                .hasMessage("LinuxKernel supports only revisions_to_keep=0 (work:kernel)");
        work.checkRw(kernel, false);
        assertThatThrownBy(() -> work.checkRw(kernel, true))
                .hasMessage("LinuxKernel supports only read-only volumes (work:kernel)");
        assertThatThrownBy(() -> work.checkEphemeral(kernel))
                .hasMessage("LinuxModules does not support setting ephemeral value (work:kernel)");
        assertThat(work.blockDevicePath(kernel)).isEqualTo(Path.of("/kernels/6.6.1/modules.img"));
        assertThat(work.plannedBlockDevicePath(kernel)).isEqualTo(Path.of("/kernels/6.6.1/modules.img"));
        assertThat(work.volumePath(kernel)).isEmpty();
        assertThat(Storage.kernelDirectory(inv, "6.6.1")).isEqualTo(Path.of("/kernels/6.6.1"));
        assertThatThrownBy(() -> work.volume("kernel")).hasMessageContaining("is not a managed volume");
    }

    @Test
    void managedVolume_pathsComeFromTheDriver() {
        var priv = inv.qube("work").volumes().get("private");
        assertThat(work.managed(priv)).isTrue();
        assertThat(work.checkRevisionsToKeep(priv, 3)).isTrue();
        work.checkRw(priv, true);
        work.checkEphemeral(priv);
        assertThat(work.volumePath(priv)).isEqualTo(dir.resolve("appvms/work/private.img").toString());
        assertThat(work.plannedBlockDevicePath(priv)).isEqualTo(dir.resolve("appvms/work/private-dirty.img"));
    }
}
