package compart.core.backup;

import compart.errors.CompartException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code backup-header} file of a Qubes backup: {@code key=value} lines, {@code version} first. Version 4 has
 * no {@code crypto-algorithm} (everything goes through scrypt) and always a {@code backup-id}, which is part of
 * every chunk's passphrase.
 *
 * @param version the format version (we write and read 4)
 * @param encrypted whether chunks are encrypted (always true in version 4)
 * @param compressed whether the inner tar streams are compressed
 * @param compressionFilter the compression program ({@code gzip} is Qubes' default and the one we read and write)
 * @param hmacAlgorithm {@code scrypt} in version 4
 * @param backupId the backup's id, e.g. {@code 20261207T171000-4242}
 */
public record BackupHeader(int version, boolean encrypted, boolean compressed, String compressionFilter,
                           String hmacAlgorithm, String backupId) {

    /** The name of the header file in the archive. */
    public static final String FILE_NAME = "backup-header";
    /** The version we write and read. */
    public static final int VERSION = 4;
    /** Qubes' default compression filter. */
    public static final String GZIP = "gzip";

    private static final Pattern ALNUM = Pattern.compile("[A-Za-z0-9-]*");
    private static final int MAX_BYTES = 4096;

    /** Checks the values against what a header line may carry. */
    public BackupHeader {
        if (compressionFilter != null && !ALNUM.matcher(compressionFilter).matches()
                || !ALNUM.matcher(hmacAlgorithm).matches()
                || !ALNUM.matcher(backupId).matches() || backupId.isEmpty() || backupId.startsWith("-")) {
            throw CompartException.invalidValue("Invalid backup header (value)");
        }
    }

    /** A version-4 header as Qubes writes it: encrypted, gzip-compressed unless told otherwise. */
    public static BackupHeader version4(String backupId, boolean compressed) {
        return new BackupHeader(VERSION, true, compressed, GZIP, "scrypt", backupId);
    }

    /** The file's bytes, in Qubes' key order. */
    public byte[] render() {
        StringBuilder s = new StringBuilder();
        s.append("version=").append(version).append('\n');
        s.append("encrypted=").append(encrypted ? "True" : "False").append('\n');
        s.append("compressed=").append(compressed ? "True" : "False").append('\n');
        if (compressionFilter != null) {
            s.append("compression-filter=").append(compressionFilter).append('\n');
        }
        s.append("hmac-algorithm=").append(hmacAlgorithm).append('\n');
        s.append("backup-id=").append(backupId).append('\n');
        return s.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** The passphrase of the header's envelope ({@code backup-header.hmac}). */
    public static byte[] headerPassphrase(byte[] passphrase) {
        return concat((FILE_NAME + "!").getBytes(StandardCharsets.US_ASCII), passphrase);
    }

    /**
     * The passphrase of one chunk's envelope: {@code backup-id!name!passphrase}.
     *
     * @param chunkName the chunk's name in the archive without {@code .enc}, e.g. {@code vm3/private.img.000}
     */
    public byte[] chunkPassphrase(String chunkName, byte[] passphrase) {
        return concat((backupId + "!" + chunkName + "!").getBytes(StandardCharsets.UTF_8), passphrase);
    }

    /**
     * Parses a header (already authenticated by its envelope) the way Qubes does: ASCII only, one {@code =} per
     * line, alphanumeric keys and values, no duplicates, unknown keys ignored; then checks it is one we read.
     *
     * @throws CompartException INVALID_VALUE with Qubes' message for a malformed header, one of another version
     *         or one whose compression or algorithm we do not read
     */
    public static BackupHeader parse(byte[] untrusted) {
        if (untrusted.length > MAX_BYTES) {
            throw CompartException.invalidValue("Invalid backup header: %d bytes", untrusted.length);
        }
        for (byte b : untrusted) {
            if (b < 0) {
                throw CompartException.invalidValue("Non-ASCII characters in backup header");
            }
        }
        Integer version = null;
        Boolean encrypted = null;
        Boolean compressed = null;
        String filter = null;
        String hmac = null;
        String id = null;
        Set<String> seen = new HashSet<>();
        for (String line : new String(untrusted, StandardCharsets.US_ASCII).split("\r?\n|\r")) {
            if (line.chars().filter(c -> c == '=').count() != 1) {
                throw CompartException.invalidValue("Invalid backup header");
            }
            String key = line.strip().substring(0, line.strip().indexOf('='));
            String value = line.strip().substring(line.strip().indexOf('=') + 1);
            if (!ALNUM.matcher(key).matches()) {
                throw CompartException.invalidValue("Invalid backup header (key)");
            }
            if (!seen.add(key)) {
                throw CompartException.invalidValue("Duplicated header line: %s", key);
            }
            if (!ALNUM.matcher(value).matches()) {
                throw CompartException.invalidValue("Invalid backup header (value)");
            }
            switch (key) {
                case "version" -> version = parseVersion(value);
                case "encrypted" -> encrypted = truth(value);
                case "compressed" -> compressed = truth(value);
                case "compression-filter" -> filter = value;
                case "hmac-algorithm" -> hmac = value;
                case "backup-id" -> id = value;
                default -> { }
            }
        }
        if (version == null) {
            throw CompartException.invalidValue("Backup header lack 'version' info");
        }
        if (version != VERSION) {
            throw CompartException.invalidValue("Unsupported backup version %d: Compart reads Qubes' backup format"
                    + " version 4 only (Qubes R4.0 and later); restore older backups with Qubes' own tools", version);
        }
        requirePresent(encrypted, "encrypted");
        requirePresent(compressed, "compressed");
        requirePresent(hmac, "hmac_algorithm");
        requirePresent(id, "backup_id");
        if (compressed) {
            requirePresent(filter, "compression_filter");
            if (!GZIP.equals(filter)) {
                throw CompartException.invalidValue("Compression filter '%s' is not supported: Compart reads gzip"
                        + " (Qubes' default) or uncompressed backups", filter);
            }
        }
        if (!encrypted || !"scrypt".equals(hmac)) {
            throw CompartException.invalidValue("Backup header: encrypted=%s hmac-algorithm=%s; version 4 is"
                    + " always encrypted with scrypt", encrypted, hmac);
        }
        return new BackupHeader(version, true, compressed, filter, hmac, id);
    }

    private static int parseVersion(String value) {
        try {
            int v = Integer.parseInt(value);
            if (v < 1 || v > 4) {
                throw CompartException.invalidValue("Invalid value for header: version");
            }
            return v;
        } catch (NumberFormatException e) {
            throw CompartException.invalidValue("Invalid value for header: version");
        }
    }

    private static boolean truth(String value) {
        return switch (value.toLowerCase()) {
            case "1", "true", "yes" -> true;
            default -> false;
        };
    }

    private static void requirePresent(Object value, String name) {
        if (value == null) {
            throw CompartException.invalidValue("Backup header lack '%s' info", name);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = new byte[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
