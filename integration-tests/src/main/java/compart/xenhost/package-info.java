/**
 * The harness that runs Compart's tests against a real Xen: Debian 12's Xen 4.17 with a PV dom0, booted
 * under QEMU (pure TCG, no KVM needed) by {@code ./mvnw verify}.
 *
 * <p>{@link compart.xenhost.XenHostRun} is the entry point (bound to the {@code integration-test} phase).
 * {@link compart.xenhost.ImageBuilder} builds the image from Debian packages and caches it under
 * {@code ~/.cache/compart-xenhost}; {@link compart.xenhost.QemuCommand} and {@link compart.xenhost.QemuBoot}
 * boot it once; dom0's init ({@code dom0-init.sh}) runs {@link compart.xenhost.PayloadScript run.sh}, the JUnit
 * console launcher over every {@code *IT} class of this module's tests; {@link compart.xenhost.TestReports}
 * hands their results to Failsafe. Test guests: the Debian kernel with a busybox initramfs
 * ({@link compart.xenhost.GuestInitramfs}, {@code guest-init.sh}).
 *
 * <p>Writing a new real-Xen test: put a {@code *IT} class into {@code integration-tests/src/test/java}; it runs
 * inside dom0 as root, with {@code xl}, libxl and the test guest at hand ({@code compart.xenhost.dom0.Dom0Host}).
 */
package compart.xenhost;
