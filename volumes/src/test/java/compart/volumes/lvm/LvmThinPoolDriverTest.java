package compart.volumes.lvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.volumes.PoolConfig;
import compart.volumes.PoolDriver;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What can be checked of the driver without device-mapper (the pool contract runs in dom0: VolumesLvmThinIT). */
class LvmThinPoolDriverTest {
    @Test
    void theDriver_isInstalled_underQubesName() {
        assertThat(PoolDriver.named("lvm_thin")).isInstanceOf(LvmThinPoolDriver.class);
    }

    @Test
    void aPoolWithoutVolumeGroupOrThinPool_isInvalid() {
        assertThatThrownBy(() -> PoolDriver.openPool(new PoolConfig("p", "lvm_thin", Map.of("thin_pool", "pool00"))))
                .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_VALUE))
                .hasMessageContaining("volume_group");
        assertThatThrownBy(() -> PoolDriver.openPool(new PoolConfig("p", "lvm_thin",
                Map.of("volume_group", "vg", "thin_pool", "bad/name")))).isInstanceOfSatisfying(CompartException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_VALUE));
    }

    @Test
    void withoutTheLvmCommand_openingSaysWhatToInstall() {
        assertThatThrownBy(() -> PoolDriver.openPool(new PoolConfig("p", "lvm_thin",
                Map.of("volume_group", "vg", "thin_pool", "pool00", "lvm", "/nonexistent/lvm"))))
                .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE))
                .hasMessageContaining("apt-get install lvm2 thin-provisioning-tools");
    }
}
