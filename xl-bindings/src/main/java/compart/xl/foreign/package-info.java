/**
 * Module-internal FFM plumbing shared by the binding packages: loading Xen libraries by soname, the libc
 * functions used around Xen calls, and the xentoollog logger that feeds SLF4J. Not exported.
 */
package compart.xl.foreign;
