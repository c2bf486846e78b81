package compart.core.hypervisor;

/** What the hypervisor reports about a domain, in the order it happens. */
public sealed interface HypervisorEvent {
    /** @return the domain id */
    int domid();

    /** @return the domain (qube) name */
    String name();

    /** A domain was created (paused). */
    record Created(int domid, String name) implements HypervisorEvent {
    }

    /** A domain runs (after unpause). */
    record Unpaused(int domid, String name) implements HypervisorEvent {
    }

    /** A domain was paused. */
    record Paused(int domid, String name) implements HypervisorEvent {
    }

    /**
     * A domain stopped: its guest shut down, crashed, or it was destroyed; it is gone.
     *
     * @param reason poweroff, crash, destroyed …
     */
    record Died(int domid, String name, String reason) implements HypervisorEvent {
    }
}
