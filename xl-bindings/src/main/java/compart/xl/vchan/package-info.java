/** Typed access to libxenvchan through FFM: shared-memory byte streams between two domains (for qrexec). */
package compart.xl.vchan;
