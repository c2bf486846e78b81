package compart.core.ops;

import compart.core.hypervisor.DomainSpec;
import compart.core.model.VolumeConfig;
import java.util.List;

/** One step of a lifecycle plan; {@link PlanExecutor} runs it and knows how to undo it. */
public sealed interface Step {
    /** @return a short description for logs and error messages */
    String describe();

    /** Start the netvm {@code qube} first (it stays up if a later step fails, as in Qubes). */
    record StartNetvm(String qube) implements Step {
        @Override
        public String describe() {
            return "start netvm " + qube;
        }
    }

    /** Check that the host has {@code mib} MiB free for the domain. */
    record CheckMemory(String qube, long mib) implements Step {
        @Override
        public String describe() {
            return "check " + mib + " MiB of memory for " + qube;
        }
    }

    /** Start the qube's volumes (snapshot root from the template, attach private, reset volatile). */
    record PrepareVolumes(String qube, List<VolumeConfig> volumes) implements Step {
        /** Copies the list. */
        public PrepareVolumes {
            volumes = List.copyOf(volumes);
        }

        @Override
        public String describe() {
            return "prepare volumes of " + qube;
        }
    }

    /** Create the domain, paused. */
    record CreatePaused(DomainSpec spec) implements Step {
        @Override
        public String describe() {
            return "create domain " + spec.name() + " (" + spec.type() + ", " + spec.memoryMib() + " MiB)";
        }
    }

    /** Let it run. */
    record Unpause(String qube) implements Step {
        @Override
        public String describe() {
            return "unpause " + qube;
        }
    }
}
