/**
 * The Qubes Admin API: a thin table of named methods over {@code core.ops}. Each handler has one shape:
 * decode the call, make one call into {@code core.ops} (or read the inventory snapshot it is handed), encode the
 * reply. Storage, inventory and event work lives below, in {@code core.ops}.
 *
 * <h2>Who owns what</h2>
 * <ul>
 *   <li>{@link compart.core.api.AdminApi}: the entry points the daemon calls ({@code handle}, {@code handleInternal},
 *       {@code handleStream}, {@code serveRun}); builds the method tables from the topic classes.</li>
 *   <li>{@code Dispatcher}: looks a method up, resolves the destination, lets {@code PolicyGate} decide a call from
 *       a qube, checks the method's rules ({@code Arg}, {@code Payload}, {@code Dest}), calls the handler, and replies
 *       every failure in one method ({@code failure}). {@link compart.core.api.ExceptionTypes} is the one mapping
 *       from a failure (its kind and the method's {@link compart.core.api.Topic}) to a Qubes exception class and
 *       message, for the Admin API replies and {@code internal.vm.Run}'s failure frame alike.</li>
 *   <li>{@code Handles}: the annotation that declares a handler with its method names and rules (Qubes'
 *       {@code @api.method}); {@code MethodTable} reads them; {@code AdminMethod} is one entry, {@code Call} what a
 *       handler sees. A handler returns the reply's payload, or is void for an empty reply.</li>
 *   <li>The topic classes (records of the {@code core.ops} parts they call), one named method per Admin API method
 *       ({@code vmStart} for {@code admin.vm.Start}):
 *       {@code VmLifecycleMethods} (list, state, start, shutdown, kill, pause, unpause, create, create disposable,
 *       remove; over the Toolstack and {@link compart.core.ops.QubeOps}), {@code PropertyMethods} (qube and global
 *       properties), {@code FeatureTagLabelMethods},
 *       {@code VolumeMethods} and {@code VolumeImportMethods} (streamed imports) over
 *       {@link compart.core.ops.VolumeOps}, {@code PoolMethods} over {@link compart.core.ops.PoolOps},
 *       {@code SystemMethods} (notes, firewall, device classes and devices) and {@code InternalMethods}
 *       ({@code internal.GetSystemInfo}, from {@link compart.core.ops.SystemInfoOps}).</li>
 *   <li>{@code AdminText}: the value formats both ways (numbers, booleans and sizes as qubesd parses them; lists,
 *       Python booleans and property values as it prints them). {@link compart.core.api.AdminRequest} and
 *       {@link compart.core.api.AdminReply}: the framing. {@code FirewallRules}: Qubes' firewall rule syntax.</li>
 *   <li>{@link compart.core.api.QrexecRun}: the frames of {@code internal.vm.Run} (dom0's {@code qvm-run});
 *       {@link compart.core.ops.QrexecCommands} runs the command.</li>
 * </ul>
 * Events are not published here: {@link compart.core.ops.Toolstack} publishes the events of every inventory change
 * ({@link compart.core.ops.InventoryChanges}), whichever path made it.
 *
 * <h2>Fidelity to Qubes' daemon</h2>
 * Qubes' answers are the specification: property names, types, defaults and listing order, exception classes and
 * messages. The tests' {@code QubesdFidelityTest} sends the same request stories to Qubes' own daemon code (run
 * offline) and to compartd and compares the answers; where compartd knowingly answers otherwise (Qubes closes the
 * connection without an answer, accepts a value that breaks its state, or words a message with a Python object),
 * {@code fidelity/qubesd-fidelity-known.tsv} in the test resources says why, one line per kind.
 *
 * <h2>To add an Admin API method</h2>
 * 1. Write its handler in the topic class, named after it ({@code admin.vm.volume.Foo} → {@code vmVolumeFoo}).
 * 2. Annotate it {@code @Handles(value = "admin.vm.volume.Foo", arg = …, payload = …, dest = …, topic = …)}.
 * 3. Put the work it needs in {@code core.ops}, and its golden rows in the tests' {@code admin-api-golden.tsv}.
 */
package compart.core.api;
