package compart.core.backup;

import compart.core.api.BulkReadStream;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads a Qubes backup, format version 4, from a file, in two passes: {@link #verify()} reads everything —
 * header and its envelope, every chunk's envelope and MAC, the order of the chunks, the compressed inner tars and
 * qubes.xml's paths — and writes nothing; {@link #extract} then reads again and hands each file's content to a
 * sink. A caller writes nothing before {@code verify} returns, so a wrong passphrase, a changed byte, a truncated
 * file, chunks out of order or a qubes.xml naming paths outside the backup create nothing. {@code extract}
 * re-checks every MAC as it goes; if the file changed since {@code verify}, it throws at the end of the chunk
 * concerned and the caller removes what it created. Not thread-safe.
 */
public final class BackupReader {

    /** Qubes' limit on qubes.xml's size. */
    public static final int QUBES_XML_MAX_BYTES = 1024 * 1024;
    /** The scrypt memory a backup may ask for unless told otherwise: 1 GiB ({@code logN=20, r=8}, the tool's). */
    public static final long DEFAULT_SCRYPT_LIMIT = 1L << 30 | 1 << 20;

    private static final Pattern CHUNK = Pattern.compile("(.+)\\.([0-9]{3,})\\.enc");
    private static final Pattern FILE_NAME = Pattern.compile("qubes\\.xml|vm[0-9]+/[A-Za-z0-9_-][A-Za-z0-9_.-]*");
    private static final int HMAC_MAX_BYTES = 4096;

    private final Path archive;
    private final byte[] passphrase;
    private final long scryptLimit;

    /**
     * A verified backup: its header, its qubes.xml and its files.
     *
     * @param header the parsed header
     * @param qubesXml qubes.xml's bytes
     * @param manifest what qubes.xml says is in the backup
     * @param files each file's name, real size and SHA-256 (hex), in archive order
     */
    public record Contents(BackupHeader header, byte[] qubesXml, BackupManifest manifest, List<FileInfo> files) {
        /** Copies. */
        public Contents {
            qubesXml = qubesXml.clone();
            files = List.copyOf(files);
        }
    }

    /**
     * One file in a backup.
     *
     * @param name e.g. {@code vm3/private.img}
     * @param size its size once extracted
     * @param sha256 the SHA-256 of its content, hex
     */
    public record FileInfo(String name, long size, String sha256) {
    }

    /** Where {@link #extract} puts files. */
    @FunctionalInterface
    public interface FileSink {
        /**
         * @param file the verified file about to be extracted
         * @return where its content goes (closed by the reader), or {@code null} to skip it
         * @throws IOException when it cannot be opened
         */
        OutputStream open(FileInfo file) throws IOException;
    }

    /**
     * @param archive the backup file
     * @param passphrase the passphrase, UTF-8
     * @param scryptLimit the largest scrypt memory an envelope may ask for
     */
    public BackupReader(Path archive, byte[] passphrase, long scryptLimit) {
        this.archive = archive;
        this.passphrase = passphrase.clone();
        this.scryptLimit = scryptLimit;
    }

    /**
     * Reads and checks the whole backup without writing anything.
     *
     * @return what it holds
     * @throws CompartException PERMISSION_DENIED for a wrong passphrase, INVALID_VALUE for anything malformed,
     *         tampered with, truncated or out of order, STORAGE when the file cannot be read
     */
    public Contents verify() {
        return pass(null, null);
    }

    /**
     * Extracts the files of a verified backup.
     *
     * @param verified what {@link #verify()} returned for this file
     * @param sink where each file goes
     * @throws CompartException as {@link #verify()}, and INVALID_VALUE when the file no longer matches
     *         {@code verified}
     */
    public void extract(Contents verified, FileSink sink) {
        Contents again = pass(verified, sink);
        if (!again.files().equals(verified.files())) {
            throw CompartException.invalidValue("backup %s changed since it was verified", archive);
        }
    }

    private Contents pass(Contents verified, FileSink sink) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(archive), 1 << 16)) {
            return read(raw, verified, sink);
        } catch (EOFException | ZipException e) {
            throw CompartException.invalidValue("backup %s is truncated or corrupted: %s", archive, e.getMessage());
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot read backup " + archive + ": " + e.getMessage(), e);
        }
    }

    private Contents read(InputStream raw, Contents verified, FileSink sink) throws IOException {
        TarReader outer = new TarReader(raw, true, "backup " + archive);
        byte[] headerText = small(outer, outer.next(), BackupHeader.FILE_NAME);
        TarEntry hmacEntry = outer.next();
        expectName(hmacEntry, BackupHeader.FILE_NAME + ".hmac");
        if (hmacEntry.storedSize() > HMAC_MAX_BYTES) {
            throw CompartException.invalidValue("HMAC file %s too large", hmacEntry.name());
        }
        ByteArrayOutputStream decrypted = new ByteArrayOutputStream();
        try {
            ScryptEnvelope.decrypt(outer.data(), hmacEntry.storedSize(),
                    BackupHeader.headerPassphrase(passphrase), scryptLimit, hmacEntry.name(), decrypted);
        } catch (CompartException e) {
            throw new CompartException(e.kind(), "Corrupted backup header (hmac verification failed). Is the"
                    + " password correct? (" + e.getMessage() + ")", e);
        }
        if (!MessageDigest.isEqual(decrypted.toByteArray(), headerText)) {
            throw CompartException.invalidValue("Invalid hmac on %s", BackupHeader.FILE_NAME);
        }
        BackupHeader header = BackupHeader.parse(headerText);

        byte[] qubesXml = null;
        BackupManifest manifest = null;
        List<FileInfo> files = new ArrayList<>();
        Map<String, Boolean> seen = new LinkedHashMap<>();
        TarEntry entry = outer.next();
        while (entry != null) {
            Matcher m = CHUNK.matcher(entry.name());
            if (!m.matches() || !m.group(2).equals("000")) {
                throw CompartException.invalidValue("Unexpected file in archive: %s, expected the first chunk"
                        + " (.000.enc) of a file", entry.name());
            }
            String name = m.group(1);
            if (!FILE_NAME.matcher(name).matches()) {
                throw CompartException.invalidValue("backup names a file %s outside its qubes.xml and vmN/"
                        + " directories: refused", name);
            }
            if (seen.put(name, true) != null) {
                throw CompartException.invalidValue("backup holds %s twice", name);
            }
            if (qubesXml == null && !name.equals("qubes.xml")) {
                throw CompartException.invalidValue("backup has %s before qubes.xml", name);
            }
            if (manifest != null && manifest.owner(name) == null) {
                throw CompartException.invalidValue("backup holds %s, which no qube in its qubes.xml claims",
                        name);
            }
            ChunkChain chain = new ChunkChain(outer, entry, name, header);
            InputStream plain = header.compressed() ? new GZIPInputStream(chain, 1 << 16) : chain;
            TarReader inner = new TarReader(plain, false, "backup file " + name);
            TarEntry file = inner.next();
            if (file == null || !file.name().equals(name) || !file.regular()) {
                throw CompartException.invalidValue("backup file %s holds %s instead", name,
                        file == null ? "nothing" : file.name());
            }
            FileInfo expected = verified == null || files.size() >= verified.files().size() ? null
                    : verified.files().get(files.size());
            OutputStream target = OutputStream.nullOutputStream();
            ByteArrayOutputStream held = null;
            if (name.equals("qubes.xml")) {
                if (file.realSize() > QUBES_XML_MAX_BYTES) {
                    throw CompartException.invalidValue("backup's qubes.xml is %d bytes, over Qubes' limit of %d",
                            file.realSize(), QUBES_XML_MAX_BYTES);
                }
                held = new ByteArrayOutputStream();
                target = held;
            } else if (sink != null && expected != null) {
                OutputStream opened = sink.open(expected);
                target = opened == null ? target : opened;
            }
            MessageDigest sha = sha256();
            long size;
            try (OutputStream out = new DigestOutputStream(target, sha)) {
                size = inner.extract(file, out);
            }
            if (inner.next() != null) {
                throw CompartException.invalidValue("backup file %s holds more than one file", name);
            }
            plain.transferTo(OutputStream.nullOutputStream());
            chain.transferTo(OutputStream.nullOutputStream());
            files.add(new FileInfo(name, size, HexFormat.of().formatHex(sha.digest())));
            if (held != null) {
                qubesXml = held.toByteArray();
                manifest = BackupManifest.parse(qubesXml);
            }
            entry = chain.following();
        }
        if (qubesXml == null) {
            throw CompartException.invalidValue("backup %s has no qubes.xml (truncated?)", archive);
        }
        for (BackupManifest.BackedUpQube q : manifest.qubes()) {
            boolean any = seen.keySet().stream().anyMatch(f -> f.startsWith(q.backupPath()));
            if (!any && !q.volumes().isEmpty()) {
                throw CompartException.invalidValue("backup %s lacks the files of qube %s (%s): truncated?",
                        archive, q.name(), q.backupPath());
            }
        }
        return new Contents(header, qubesXml, manifest, files);
    }

    private byte[] small(TarReader outer, TarEntry entry, String name) throws IOException {
        expectName(entry, name);
        if (entry.storedSize() > HMAC_MAX_BYTES) {
            throw CompartException.invalidValue("%s is %d bytes: too large", name, entry.storedSize());
        }
        byte[] b = outer.data().readAllBytes();
        if (b.length != entry.storedSize()) {
            throw CompartException.invalidValue("backup %s is truncated inside %s", archive, name);
        }
        return b;
    }

    private void expectName(TarEntry entry, String name) {
        if (entry == null) {
            throw CompartException.invalidValue("backup %s ends before %s (not a Qubes backup, or truncated)",
                    archive, name);
        }
        if (!entry.name().equals(name)) {
            throw CompartException.invalidValue("backup %s: expected %s, found %s (not a Qubes backup of format"
                    + " version 3 or 4)", archive, name, entry.name());
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** One file's chunks, decrypted and authenticated in turn, as one stream; stops at the next file's entry. */
    private final class ChunkChain extends BulkReadStream {
        private final TarReader outer;
        private final String name;
        private final BackupHeader header;
        private int index;
        private InputStream current;
        private TarEntry following;
        private boolean done;

        ChunkChain(TarReader outer, TarEntry first, String name, BackupHeader header) throws IOException {
            this.outer = outer;
            this.name = name;
            this.header = header;
            open(first);
        }

        private void open(TarEntry entry) throws IOException {
            String chunk = name + String.format(".%03d", index);
            current = ScryptEnvelope.decrypting(outer.data(), entry.storedSize(),
                    header.chunkPassphrase(chunk, passphrase), scryptLimit, chunk + ".enc");
        }

        /** The outer entry after this file's last chunk, once this stream has been read to its end. */
        TarEntry following() {
            return following;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            while (!done) {
                int n = current.read(b, off, len);
                if (n >= 0) {
                    return n;
                }
                TarEntry next = outer.next();
                Matcher m = next == null ? null : CHUNK.matcher(next.name());
                String expected = name + String.format(".%03d.enc", index + 1);
                if (m != null && m.matches() && m.group(1).equals(name)) {
                    if (!next.name().equals(expected)) {
                        throw CompartException.invalidValue("Unexpected file in archive: %s, expected %s",
                                next.name(), expected);
                    }
                    index++;
                    open(next);
                } else {
                    following = next;
                    done = true;
                }
            }
            return -1;
        }
    }
}
