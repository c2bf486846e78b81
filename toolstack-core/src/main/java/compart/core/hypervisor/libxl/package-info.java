/**
 * The {@code libxl} backend of the hypervisor seam, on xl-bindings' {@code LibxlContext}: a {@code DomainSpec}
 * becomes libxl's domain config by a pure function ({@link compart.core.hypervisor.libxl.LibxlDomainConfigs}), the
 * {@link compart.core.hypervisor.libxl.LibxlHypervisor} creates, controls and watches the domains. libxl types
 * do not leave this package.
 */
package compart.core.hypervisor.libxl;
