/**
 * Memory balancing and start-time reservation, as Qubes' qmemman does it, inside compartd.
 *
 * <p>Which class owns what:
 * <ul>
 *   <li>{@link compart.core.memory.Balancing}: the algorithm, pure (qmemman's {@code algo.py}): preferred sizes,
 *       the balance of free memory, the balloon that frees memory for a start, the available-memory figure. Its
 *       tests hold Qubes' own qmemman figures; its properties bound every target.</li>
 *   <li>{@link compart.core.memory.MeminfoReport}: the parser of a guest's untrusted {@code memory/meminfo}.</li>
 *   <li>{@link compart.core.memory.MemoryBroker}: the state (each followed domain's size, last target, report)
 *       and the one lock under which rebalances and reservations decide; it talks to Xen only through the
 *       {@link compart.core.hypervisor.Hypervisor} seam (guest node watches, memory targets, free memory).</li>
 *   <li>{@link compart.core.memory.MemoryReservation}: the pages one start holds until its domain exists; the
 *       start step {@code CheckMemory} takes it and {@code CreatePaused} hands it over.</li>
 *   <li>{@link compart.core.memory.MemorySettings}: {@code /etc/compart/memory.conf}, qmemman.conf's keys and
 *       defaults.</li>
 * </ul>
 */
package compart.core.memory;
