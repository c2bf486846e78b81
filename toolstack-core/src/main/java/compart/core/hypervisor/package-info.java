/**
 * The hypervisor seam, at libxl's grain: create a domain paused from an immutable {@link
 * compart.core.hypervisor.DomainSpec}, unpause, pause, shutdown, destroy, list, and a stream of sealed {@link
 * compart.core.hypervisor.HypervisorEvent}s. Backends: {@code libxl} (xl-bindings) and {@code test} (simulated).
 */
package compart.core.hypervisor;
