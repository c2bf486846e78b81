package compart.core.ops;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.hypervisor.DomainStatus;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PowerStateTest {
    @Test
    void of_mapsEveryDomainState_shuttingDownIsHaltingAsQubesReportsIt() {
        assertThat(PowerState.of(DomainStatus.State.RUNNING)).isEqualTo(PowerState.Running);
        assertThat(PowerState.of(DomainStatus.State.PAUSED)).isEqualTo(PowerState.Paused);
        assertThat(PowerState.of(DomainStatus.State.SHUTTING_DOWN)).isEqualTo(PowerState.Halting);
        assertThat(Arrays.stream(DomainStatus.State.values()).map(PowerState::of)).hasSize(3).doesNotContainNull();
    }
}
