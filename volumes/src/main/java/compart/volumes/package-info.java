/** Pools and volumes with Qubes semantics. */
package compart.volumes;
