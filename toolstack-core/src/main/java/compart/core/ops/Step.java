package compart.core.ops;

import compart.core.hypervisor.DomainSpec;
import compart.core.model.VolumeDefinition;
import java.time.Duration;
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

    /** Reserve {@code mib} MiB for the domain with the memory broker (others balloon down if needed). */
    record CheckMemory(String qube, long mib) implements Step {
        @Override
        public String describe() {
            return "reserve " + mib + " MiB of memory for " + qube;
        }
    }

    /**
     * Start the qube's volumes (snapshot root from the template, attach private, reset volatile); this is where the
     * files backing the domain's disks become known.
     */
    record PrepareVolumes(String qube, List<VolumeDefinition> volumes) implements Step {
        /** Copies the list. */
        public PrepareVolumes {
            volumes = List.copyOf(volumes);
        }

        @Override
        public String describe() {
            return "prepare volumes of " + qube;
        }
    }

    /**
     * Create the domain, paused, with its disks backed by the volumes {@link PrepareVolumes} started.
     *
     * @param spec  the domain as planned, without disks: the files backing them are known only once the volumes
     *              are started
     * @param disks which volume backs each disk, xvda first
     */
    record CreatePaused(DomainSpec spec, List<DomainSpecs.DiskSlot> disks) implements Step {
        /** Copies the list. */
        public CreatePaused {
            disks = List.copyOf(disks);
        }

        @Override
        public String describe() {
            return "create domain " + spec.name() + " (" + spec.type() + ", " + spec.memoryMib() + " MiB)";
        }
    }

    /**
     * Connect dom0's qrexec daemon to the qube's agent (after unpause, as Qubes starts qrexec-daemon).
     *
     * @param timeout  the qube's {@code qrexec_timeout}
     * @param required the qube (or its template) has the feature {@code qrexec}: the start waits for the agent
     *                 and fails after {@code timeout}; without it the daemon connects in the background
     */
    record ConnectQrexec(String qube, Duration timeout, boolean required) implements Step {
        @Override
        public String describe() {
            return required ? "connect to the qrexec agent of " + qube + " (waiting up to " + timeout.toSeconds()
                    + " s)" : "connect to the qrexec agent of " + qube + " in the background (no feature qrexec)";
        }
    }

    /**
     * Fill the qube's QubesDB and serve it (on real Xen: a vchan server on port 111), before unpause, as qubesd
     * does; its netvm's database learns of it first.
     */
    record FillQubesDb(String qube) implements Step {
        @Override
        public String describe() {
            return "fill the QubesDB of " + qube;
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
