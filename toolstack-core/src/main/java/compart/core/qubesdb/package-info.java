/**
 * QubesDB, dom0's side: the per-qube database qubesd serves to each qube's {@code qubesdb-daemon} over a vchan
 * (port 111), from which the qube learns its name, type, addresses, services and, for a net qube, its clients'
 * firewall.
 *
 * <ul>
 *   <li>{@code QdbCodec}, {@code QdbMessage}, {@code QdbType}, {@code QdbPath}: the wire format and its rules,
 *       pure.</li>
 *   <li>{@code QubesDb}: one qube's database, an exact mirror of the qube's copy, bounded for what the qube
 *       writes.</li>
 *   <li>{@code QubesDbEntries}: the pure planner of dom0's entries for a qube (a new entry Qubes writes goes
 *       there) and of the pushes ({@code QdbOp}) between two plans.</li>
 *   <li>{@code QubesDbServer} (with {@code QdbConnection}): the server of one qube over a
 *       {@code compart.core.qrexec.Link}; {@code QubesDbDaemons}: one server per running qube, started by the
 *       start step {@code FillQubesDb} before unpause and refreshed by every inventory change.</li>
 * </ul>
 */
package compart.core.qubesdb;
