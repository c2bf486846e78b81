/**
 * Pools and volumes with Qubes semantics: the API the toolstack uses and the service provider interface of the
 * pool drivers.
 *
 * <p>Who owns what:
 * <ul>
 *   <li>{@link compart.volumes.Pool}, {@link compart.volumes.Volume}: a pool and one of its volumes, with the Qubes
 *       operations (create, start, stop, revert, resize, import, export, clone), crash safe;
 *       {@link compart.volumes.PoolConfig} and {@link compart.volumes.VolumeConfig} configure them.</li>
 *   <li>{@link compart.volumes.PoolDriver}: the SPI a driver implements — its name, its options (the table
 *       {@code admin.pool.ListDrivers} prints), whether its pools hold volumes, the paths of a volume computed
 *       from the options alone, and {@code open}. {@link compart.volumes.NamedPoolDriver} declares name and
 *       options once. {@link compart.volumes.PoolDrivers}: the installed drivers (ServiceLoader), by name;
 *       {@code settableOptions}: options of ours changed on a pool in use ({@code dedup}).</li>
 *   <li>Drivers: {@code compart.volumes.reflink} ({@code file-reflink}, and Qubes' old {@code file} run by it with
 *       {@code setup_check=no}; its {@code ImageNames} is the one place that knows the image file names; with
 *       {@code dedup=on} its pool keeps itself deduplicated through a {@code DedupKeeper}),
 *       {@code compart.volumes.lvm} ({@code lvm_thin}; {@code LvsCache} keeps the volume group's {@code lvs} report,
 *       {@code LvmCommandRunner} is the seam to LVM), {@link compart.volumes.LinuxKernelPoolDriver}
 *       ({@code linux-kernel}: read-only kernel files, no volumes; owns its directory layout and Qubes'
 *       refusals).</li>
 *   <li>{@link compart.volumes.DriverSteps}: what every driver does the same way (keep the reserve free, clone by
 *       streaming when blocks cannot be shared); {@link compart.volumes.VolumeLocks}: the cross-process lock of a
 *       volume.</li>
 *   <li>{@code compart.volumes.dedup}: block deduplication across volumes: its own command
 *       ({@code compart-dedup}, for pools no daemon runs) and {@code DedupKeeper}, the background passes a pool
 *       with {@code dedup=on} runs after each commit.</li>
 * </ul>
 *
 * <p>To add a pool driver: write a package {@code compart.volumes.NAME} with a {@code NamedPoolDriver} subclass
 * (name, options, {@code open}, paths) and its {@code Pool}/{@code Volume}; run {@code PoolContract} on it in the
 * tests; list it under {@code provides} in {@code module-info.java} and in {@code META-INF/services}.
 */
package compart.volumes;
