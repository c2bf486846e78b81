package compart.core.ops;

import compart.core.hypervisor.DomainStatus;

/** A qube's power state, named as the Admin API reports it ({@code state=Running}). */
public enum PowerState {
    Halted, Transient, Running, Paused, Suspended, Halting, Dying, Crashed, NA;

    /**
     * The one mapping from what the hypervisor reports of a live domain to a qube's power state, used when the
     * toolstack finds domains at its start and when it re-reads a domain after a failed operation. A domain that
     * is shutting down is {@code Halting}, as Qubes reports it.
     *
     * @param state the live domain's state
     * @return the qube's power state
     */
    public static PowerState of(DomainStatus.State state) {
        return switch (state) {
            case RUNNING -> Running;
            case PAUSED -> Paused;
            case SHUTTING_DOWN -> Halting;
        };
    }
}
