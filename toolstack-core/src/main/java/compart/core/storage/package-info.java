/**
 * The qubes' volumes at run time, through {@code compart.volumes}; core names no pool driver.
 *
 * <p>Who owns what:
 * <ul>
 *   <li>{@link compart.core.storage.Storage}: the opened pools (one per configured pool, reopened when its
 *       configuration changes), what the drivers know of a pool ({@code driverParameters}, {@code holdsVolumes},
 *       {@code poolUsage}, {@code checkNewPool}, {@code poolWithRevisionsToKeep}), where a kernel's files are
 *       ({@code kernelDirectory}), and orphan clean-up. Its {@code (inventory, qube, volume)} methods
 *       {@code volume}, {@code configOf} and {@code reportedSize} are deprecated: only the Admin API still calls
 *       them; new code binds the qube with {@code of(inventory, qube)}.</li>
 *   <li>{@link compart.core.storage.QubeStorage} ({@code storage.of(inventory, qube)}): one qube's volumes with
 *       the Qubes rules — create, snapshot the template's root at start, commit private at stop, reset volatile,
 *       remove — each volume's config (a snapshot's source resolved from the inventory), its paths
 *       ({@code blockDevicePath}, {@code plannedBlockDevicePath} without I/O, {@code volumePath}) and the settings
 *       its pool's driver refuses ({@code checkRevisionsToKeep}, {@code checkRw}, {@code checkEphemeral}). A start
 *       binds one per run ({@code StartRun}'s context); the planner does not touch storage at all.</li>
 * </ul>
 *
 * <p>A {@code file-reflink} pool with {@code setup_check=no} stays usable on a filesystem that cannot reflink (e.g.
 * a test state directory on ext4): the volumes module's driver then makes sparse copies where it would clone. A new
 * pool driver needs nothing here: it is added in {@code compart.volumes} (see its package documentation).
 */
package compart.core.storage;
