/**
 * The qubes' volumes at run time: {@link compart.core.storage.Storage} opens the configured pools through
 * {@code compart.volumes} and applies the Qubes rules per qube (create, snapshot the template's root at start,
 * commit private at stop, reset volatile, clone, remove). A {@code file-reflink} pool with {@code setup_check=no}
 * stays usable on a filesystem that cannot reflink (e.g. a test state directory on ext4): the volumes module's
 * driver then makes sparse copies where it would clone.
 */
package compart.core.storage;
