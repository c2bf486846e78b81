/** Typed access to libxenlight (libxl) through FFM. */
package compart.xl.libxl;
