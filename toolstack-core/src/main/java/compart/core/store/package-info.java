/** The durable, crash-safe store of the {@link compart.core.model.Inventory}, and the import of Qubes' qubes.xml. */
package compart.core.store;
