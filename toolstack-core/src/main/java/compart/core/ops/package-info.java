/**
 * Orchestration: what the toolstack does with qubes, below the Admin API and above the hypervisor and storage.
 *
 * <p>Which class owns what:
 * <ul>
 *   <li>{@link compart.core.ops.Toolstack}: the current {@link compart.core.model.Inventory} (changed through
 *       {@code change}/{@code create}, stored before it becomes current), the live state of each qube, the
 *       lifecycle operations (start, shutdown, kill, pause, unpause, remove) run in one queue per qube
 *       ({@link compart.core.ops.QubeQueues}), what happens when a domain dies; built by one constructor, it does
 *       not hand out its storage or hypervisor to new callers.</li>
 *   <li>{@link compart.core.ops.StartPlanner}: the start plan, a pure function of the inventory and the power
 *       states (no storage, no hypervisor), as a list of {@link compart.core.ops.Step}s.</li>
 *   <li>{@code StartRun}: carries out one start plan, one method per step, each returning its undo; its
 *       {@code Context} holds what the run learns (block device files, domid). {@code PlanExecutor} runs the
 *       steps in order, undoes the completed ones on failure and names the failed step and what it undid.</li>
 *   <li>{@link compart.core.ops.DomainSpecs}: the {@link compart.core.hypervisor.DomainSpec} of a qube from its
 *       properties (pure), its disks attached once the volumes are started.</li>
 *   <li>{@link compart.core.ops.PowerState}: the power states, and the one mapping from a domain's state.</li>
 *   <li>{@link compart.core.ops.Disposables}: unnamed disposables and the targets of qrexec calls.</li>
 *   <li>{@link compart.core.ops.PreloadPlanner} and {@link compart.core.ops.PreloadedDisposables}: preloaded
 *       disposables (Qubes 4.3's {@code preload-dispvm-max}); the planner decides from the inventory and the
 *       available memory (pure), the other makes, pauses, hands out, refills and removes them, one lane per
 *       disposable template.</li>
 *   <li>{@link compart.core.ops.EventBus} and {@link compart.core.ops.QubeEvent}: {@code admin.Events}.</li>
 *   <li>{@link compart.core.ops.InventoryChanges}: the events of an inventory change (a pure diff of before and
 *       after), which {@code Toolstack.change}/{@code create} publish, whichever path made the change.</li>
 *   <li>The façades the Admin API calls, each named for what it does: {@link compart.core.ops.VolumeOps} (a
 *       qube's volumes: info, revisions, revert, resize, import, export, clear, clone, flags, on the per-qube
 *       storage view), {@link compart.core.ops.PoolOps} (pools: drivers and their parameters from the volumes
 *       SPI, add, revisions, remove, usage), {@link compart.core.ops.QubeOps} (create, create a disposable,
 *       firewall reload), {@link compart.core.ops.SystemInfoOps} (what the qrexec policy sees of each qube) and
 *       {@link compart.core.ops.QrexecCommands} (dom0's {@code qvm-run}). Only this package reaches the
 *       toolstack's storage.</li>
 * </ul>
 *
 * <p>To add a start step: add a record to {@link compart.core.ops.Step} (with its {@code describe()}); emit it
 * from {@link compart.core.ops.StartPlanner#plan} where it belongs in the order (from the inventory alone); add its
 * method to {@code StartRun} (do the step, return its undo or null) and its case to {@code StartRun.step}.
 */
package compart.core.ops;
