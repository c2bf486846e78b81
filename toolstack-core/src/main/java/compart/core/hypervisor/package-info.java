/**
 * The hypervisor seam, at libxl's grain: create a domain paused from an immutable {@link
 * compart.core.hypervisor.DomainSpec}, unpause, pause, shutdown, destroy, list, and a stream of sealed {@link
 * compart.core.hypervisor.HypervisorEvent}s. Backends: {@code libxl} (xl-bindings) and {@code test} (simulated).
 *
 * <p>A live domain's {@link compart.core.hypervisor.DomainStatus.State} becomes a qube's power state in one place,
 * {@link compart.core.ops.PowerState#of}. {@code core.ops} drives the backend: the start steps in its
 * {@code StartRun}, the other lifecycle operations in {@link compart.core.ops.Toolstack}.
 */
package compart.core.hypervisor;
