package compart.volumes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PoolDriversTest {
    @Test
    void parameters_areQubesDriverTable() {
        assertThat(PoolDrivers.parameters()).containsExactly(
                Map.entry("file", List.of("dir_path", "revisions_to_keep", "ephemeral_volatile")),
                Map.entry("file-reflink", List.of("dir_path", "revisions_to_keep", "ephemeral_volatile",
                        "setup_check")),
                Map.entry("linux-kernel", List.of("dir_path")),
                Map.entry("lvm_thin", List.of("volume_group", "thin_pool", "revisions_to_keep",
                        "ephemeral_volatile")));
    }

    @Test
    void holdsVolumes_falseOnlyForKernels() {
        assertThat(PoolDrivers.holdsVolumes("linux-kernel")).isFalse();
        assertThat(PoolDrivers.holdsVolumes("file")).isTrue();
        assertThat(PoolDrivers.holdsVolumes("file-reflink")).isTrue();
        assertThat(PoolDrivers.holdsVolumes("lvm_thin")).isTrue();
        assertThat(PoolDrivers.holdsVolumes("no-such-driver")).isTrue();
    }

    @Test
    void named_unknownDriver_isNotFoundAndListsTheInstalledOnes() {
        assertThatThrownBy(() -> PoolDrivers.named("zfs")).isInstanceOf(CompartException.class)
                .hasMessage("no pool driver zfs: installed drivers are file, file-reflink, linux-kernel, lvm_thin")
                .extracting(e -> ((CompartException) e).kind()).isEqualTo(ErrorKind.NOT_FOUND);
    }

    @Test
    void open_kernelPool_isRefused() {
        assertThatThrownBy(() -> PoolDrivers.open(new PoolConfig("linux-kernel", "linux-kernel", Map.of())))
                .hasMessage("pool linux-kernel holds kernels (driver linux-kernel): it has no volumes to manage");
    }

    @Test
    void volumePath_fileDrivers_committedImage_lvm_device() {
        var reflink = new PoolConfig("p", "file-reflink", Map.of("dir_path", "/pools/p"));
        assertThat(PoolDrivers.named("file-reflink").volumePath(reflink, "appvms/work/private"))
                .contains(Path.of("/pools/p/appvms/work/private.img"));
        var file = new PoolConfig("p", "file", Map.of("dir_path", "/pools/p"));
        assertThat(PoolDrivers.named("file").volumePath(file, "appvms/work/private"))
                .contains(Path.of("/pools/p/appvms/work/private.img"));
        var lvm = new PoolConfig("vm-pool", "lvm_thin", Map.of("volume_group", "qubes_dom0", "thin_pool", "vm-pool"));
        assertThat(PoolDrivers.named("lvm_thin").volumePath(lvm, "appvms/work/private")).get().asString()
                .startsWith("/dev/qubes_dom0/");
        assertThat(PoolDrivers.named("linux-kernel").volumePath(file, "x")).isEmpty();
    }

    @Test
    void blockDevicePath_withoutOpening_isTheOpenedVolumes(@TempDir Path dir) {
        var config = new PoolConfig("p", "file", Map.of("dir_path", dir + "/./pool"));
        var volume = VolumeConfig.persistent("private", 4096);
        Path planned = PoolDrivers.named("file").blockDevicePath(config, "appvms/work/private", volume).orElseThrow();
        assertThat(planned).isEqualTo(dir.resolve("pool/appvms/work/private-dirty.img"));
        assertThat(PoolDrivers.open(config).volume("appvms/work/private", volume).blockDevicePath()).isEqualTo(planned);
        var lvm = new PoolConfig("vm-pool", "lvm_thin", Map.of("volume_group", "qubes_dom0", "thin_pool", "vm-pool"));
        assertThat(PoolDrivers.named("lvm_thin").blockDevicePath(lvm, "appvms/work/private", volume)).get().asString()
                .startsWith("/dev/qubes_dom0/").endsWith("-snap");
        assertThat(PoolDrivers.named("linux-kernel").blockDevicePath(config, "x", volume)).isEmpty();
    }

    @Test
    void kernel_modulesImage_underDirPathOrQubesDefault() {
        assertThat(LinuxKernelPoolDriver.modulesImage(Map.of("dir_path", "/kernels"), "6.6.1"))
                .isEqualTo(Path.of("/kernels/6.6.1/modules.img"));
        assertThat(LinuxKernelPoolDriver.modulesImage(Map.of(), "6.6.1"))
                .isEqualTo(Path.of("/var/lib/qubes/vm-kernels/6.6.1/modules.img"));
    }

    @Test
    void kernel_refusals_keepQubesMessages() {
        LinuxKernelPoolDriver.checkRevisionsToKeep(0, "work:kernel");
        LinuxKernelPoolDriver.checkRw(false, "work:kernel");
        assertThatThrownBy(() -> LinuxKernelPoolDriver.checkRevisionsToKeep(2, "pool linux-kernel"))
                .hasMessage("LinuxKernel supports only revisions_to_keep=0 (pool linux-kernel)");
        assertThatThrownBy(() -> LinuxKernelPoolDriver.checkRw(true, "work:kernel"))
                .hasMessage("LinuxKernel supports only read-only volumes (work:kernel)");
        assertThatThrownBy(() -> LinuxKernelPoolDriver.refuseEphemeral("work:kernel"))
                .hasMessage("LinuxModules does not support setting ephemeral value (work:kernel)");
    }
}
