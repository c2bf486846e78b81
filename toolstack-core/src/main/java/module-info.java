/**
 * The qube model, the durable store, the Admin API daemon compartd and the orchestration of domains.
 *
 * <p>Where things live (each package's own docs say more):
 * <ul>
 *   <li>{@code compart.core.api}: the Admin API wire methods, one named handler each, grouped by topic; a new Admin
 *       API method is a method with {@code @Handles} in its topic class and a golden row in
 *       {@code admin-api-golden.tsv}.</li>
 *   <li>{@code compart.core.ops}: what the methods do: the {@code Toolstack} (inventory, per-qube queues,
 *       lifecycle, events from the change path), the start planner ({@code StartPlanner}, pure) and its interpreter
 *       ({@code StartRun}, one method per step with its undo), and the façades the API calls ({@code VolumeOps},
 *       {@code PoolOps}, {@code QubeOps}, {@code SystemInfoOps}, {@code QrexecCommands}); a new start step is a
 *       record in {@code Step}, emitted by the planner and carried out by one method of {@code StartRun}.</li>
 *   <li>{@code compart.core.model}: the immutable inventory, properties (typed keys in {@code Prop}), classes,
 *       labels; {@code compart.core.store}: its crash-safe store and the import of Qubes' qubes.xml.</li>
 *   <li>{@code compart.core.storage}: the qubes' volumes through {@code compart.volumes}; a new pool driver is a
 *       {@code PoolDriver} in the volumes module, found by {@code ServiceLoader}: nothing here changes.</li>
 *   <li>{@code compart.core.memory}: memory balancing of the running qubes and the reservation of memory for starts
 *       under one lock, as Qubes' qmemman ({@code MemoryBroker}; the algorithm, pure, in {@code Balancing}).</li>
 *   <li>{@code compart.core.hypervisor} (+ {@code .libxl}, {@code .test}): the hypervisor seam;
 *       {@code compart.core.qrexec}: dom0's qrexec daemons; {@code compart.core.qubesdb}: dom0's QubesDB (one
 *       server per running qube, filled by the start step {@code FillQubesDb}); {@code compart.core.daemon}:
 *       compartd's command line and sockets.</li>
 * </ul>
 *
 * <p>Exports only what other modules use: the daemon (its command line, started in-process by the commands' tests)
 * and the qrexec router (driven directly by the real-Xen tests).
 */
module compart.core {
    requires transitive compart.errors;
    requires compart.xl;
    requires compart.volumes;
    requires compart.policy;
    requires org.slf4j;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires org.bouncycastle.provider;
    requires org.tukaani.xz;

    requires java.xml;

    exports compart.core.daemon;
    exports compart.core.qrexec;
    opens compart.core.daemon to info.picocli;
}
