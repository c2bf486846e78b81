/**
 * The {@code test} hypervisor: a simulated one, with in-memory domains following the same state rules as libxl,
 * for the layers above the seam (like libvirt's {@code test:///} driver). Selected with {@code --hypervisor test}.
 */
package compart.core.hypervisor.test;
