/**
 * Qubes' backup format, version 4, both ways; no qube, no daemon, only files and streams.
 *
 * <p>Who owns what:
 * <ul>
 *   <li>{@link compart.core.backup.ScryptEnvelope}: the {@code scrypt} tool's file format (scrypt key derivation,
 *       AES-256-CTR, HMAC-SHA-256) that encrypts and authenticates the header and every chunk;
 *       {@link compart.core.backup.ScryptCost} its cost.</li>
 *   <li>{@link compart.core.backup.BackupHeader}: the {@code backup-header} file and the passphrases derived from
 *       it (the header's {@code backup-header!}, each chunk's {@code backup-id!name!}).</li>
 *   <li>{@link compart.core.backup.BackupWriter}: a whole backup to a file, streamed: the outer tar of one archive
 *       per file, the inner tar of each file, gzip, chunks of 100 MiB.</li>
 *   <li>{@link compart.core.backup.BackupReader}: a whole backup from a file, verified completely before the
 *       caller writes anything, then extracted; {@link compart.core.backup.BackupManifest} what its qubes.xml says
 *       is in it, its paths checked.</li>
 *   <li>{@code TarBlocks} and {@code TarReader} (package-private): tar headers out and in; {@code BlockWrites}: an
 *       output stream written in blocks only.</li>
 * </ul>
 *
 * <p>Where to add things: another compression filter is a stream in {@code BackupWriter.addFile} and
 * {@code BackupReader.read} plus its name in {@code BackupHeader.parse}; backing up qubes of the running system
 * (profiles, the Admin API's {@code admin.backup.*}) belongs in {@code compart.core.ops}, on top of this.
 */
package compart.core.backup;
