/** Typed access to xenstore (libxenstore) through FFM: reads, writes, permissions, transactions, watches. */
package compart.xl.xenstore;
