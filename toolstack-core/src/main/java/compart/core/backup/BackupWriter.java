package compart.core.backup;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.ByteArrayInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.function.LongConsumer;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a Qubes backup, format version 4, to a file: {@code backup-header} and {@code backup-header.hmac} (the
 * header in a scrypt envelope), then for each file ({@code qubes.xml} first, then {@code vmN/<volume>.img} and the
 * like) an inner tar of that one file, gzip-compressed, split into chunks of {@link #CHUNK_BYTES} and each chunk
 * in its own scrypt envelope named {@code <file>.NNN.enc}. Each outer file is its own tar archive, padded to a
 * record, as Qubes' {@code tar -cO} per file writes it.
 *
 * <p>Streams: a file's data passes through once, in 64 KiB pieces; a chunk's size is written into its outer tar
 * header after the chunk (the target is a seekable file). Not thread-safe; one writer per backup.
 */
public final class BackupWriter implements AutoCloseable {

    /** Qubes' chunk size: 100 MiB of compressed data per chunk. */
    public static final long CHUNK_BYTES = 100L * 1024 * 1024;
    private static final Pattern FILE_NAME = Pattern.compile("qubes\\.xml|vm[0-9]+/[A-Za-z0-9_.-]+");

    private final FileChannel target;
    private final byte[] passphrase;
    private final BackupHeader header;
    private final ScryptCost cost;
    private final long chunkBytes;
    private final long mtime;
    private final OutputStream out;
    private long position;

    /**
     * Writes the header files at once.
     *
     * @param target the backup file, open for writing at position 0
     * @param passphrase the user's passphrase, UTF-8
     * @param header the header (see {@link BackupHeader#version4})
     * @param cost scrypt's cost for every envelope
     * @param chunkBytes the chunk size ({@link #CHUNK_BYTES} as Qubes; smaller in tests)
     * @throws IOException when the target cannot be written
     */
    public BackupWriter(FileChannel target, byte[] passphrase, BackupHeader header, ScryptCost cost, long chunkBytes)
            throws IOException {
        if (chunkBytes < 1) {
            throw CompartException.invalidValue("chunk size %d must be positive", chunkBytes);
        }
        this.target = target;
        this.passphrase = passphrase.clone();
        this.header = header;
        this.cost = cost;
        this.chunkBytes = chunkBytes;
        this.mtime = System.currentTimeMillis() / 1000;
        OutputStream file = new BlockWrites() {
            private long at;

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                while (buf.hasRemaining()) {
                    at += target.write(buf, at);
                }
            }
        };
        BufferedOutputStream buffered = new BufferedOutputStream(file, 1 << 20);
        this.out = new FilterOutputStream(buffered) {
            @Override
            public void write(int b) throws IOException {
                buffered.write(b);
                position++;
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                buffered.write(b, off, len);
                position += len;
            }
        };
        byte[] text = header.render();
        writeWhole(BackupHeader.FILE_NAME, text);
        ByteArrayOutputStream hmac = new ByteArrayOutputStream();
        try (OutputStream enc = ScryptEnvelope.encrypt(hmac, BackupHeader.headerPassphrase(passphrase), cost)) {
            enc.write(text);
        }
        writeWhole(BackupHeader.FILE_NAME + ".hmac", hmac.toByteArray());
    }

    /**
     * Adds one file: {@code qubes.xml} (first) or a qube's file ({@code vmN/private.img}).
     *
     * @param name the file's name in the backup
     * @param size its size in bytes; {@code data} must give exactly that many
     * @param data the content, read once to its end
     * @param progress told the bytes of {@code data} consumed, as they go
     * @throws CompartException INVALID_VALUE for a bad name, STORAGE when {@code data} gives another size
     * @throws IOException when the data cannot be read or the target written
     */
    public void addFile(String name, long size, InputStream data, LongConsumer progress) throws IOException {
        try (OutputStream file = openFile(name, size, progress)) {
            data.transferTo(file);
        }
    }

    /**
     * Opens one file for writing by whoever has its data to push (a volume's export): exactly {@code size} bytes,
     * then {@link OutputStream#close()}, which completes the file's last chunk.
     *
     * @param name the file's name in the backup
     * @param size its size in bytes
     * @param progress told the bytes written, as they go
     * @return where the content goes
     * @throws CompartException INVALID_VALUE for a bad name; STORAGE (from write or close) when the content is not
     *         {@code size} bytes
     * @throws IOException when the target cannot be written
     */
    public OutputStream openFile(String name, long size, LongConsumer progress) throws IOException {
        if (!FILE_NAME.matcher(name).matches()) {
            throw CompartException.invalidValue("backup file name %s is not qubes.xml or vmN/NAME", name);
        }
        ChunkStream chunks = new ChunkStream(name);
        OutputStream compressed = header.compressed() ? new GZIPOutputStream(chunks, 1 << 16) : chunks;
        byte[] tarHeader = TarBlocks.fileHeader(name, size, mtime);
        compressed.write(tarHeader);
        return new BlockWrites() {
            private long written;

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (written + len > size) {
                    throw new CompartException(ErrorKind.STORAGE, "backup of " + name + ": expected " + size
                            + " bytes, the volume gave more");
                }
                compressed.write(b, off, len);
                written += len;
                progress.accept(len);
            }

            @Override
            public void close() throws IOException {
                if (written != size) {
                    throw new CompartException(ErrorKind.STORAGE, "backup of " + name + ": expected " + size
                            + " bytes, the volume gave " + written);
                }
                compressed.write(new byte[TarBlocks.padding(size)]);
                TarBlocks.endArchive(compressed, tarHeader.length + TarBlocks.padded(size));
                compressed.close();
                chunks.close();
            }
        };
    }

    /** Adds a small file held in memory (qubes.xml, firewall.xml). */
    public void addFile(String name, byte[] content) throws IOException {
        addFile(name, content.length, new ByteArrayInputStream(content), n -> { });
    }

    /** Flushes the file to disk; the backup is complete. */
    @Override
    public void close() throws IOException {
        out.flush();
        target.force(true);
    }

    private void writeWhole(String name, byte[] content) throws IOException {
        byte[] h = TarBlocks.fileHeader(name, content.length, mtime);
        out.write(h);
        out.write(content);
        out.write(new byte[TarBlocks.padding(content.length)]);
        TarBlocks.endArchive(out, h.length + TarBlocks.padded(content.length));
    }

    /** Splits what is written into enveloped chunks, each an outer tar archive whose size is patched in after. */
    private final class ChunkStream extends BlockWrites {
        private final String name;
        private int index;
        private OutputStream chunk;
        private long headerAt;
        private long inChunk;

        ChunkStream(String name) {
            this.name = name;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                if (chunk == null) {
                    open();
                }
                int n = (int) Math.min(len, chunkBytes - inChunk);
                chunk.write(b, off, n);
                inChunk += n;
                off += n;
                len -= n;
                if (inChunk == chunkBytes) {
                    finishChunk();
                }
            }
        }

        private void open() throws IOException {
            headerAt = position;
            out.write(new byte[TarBlocks.BLOCK]);
            String chunkName = name + String.format(".%03d", index);
            chunk = ScryptEnvelope.encrypt(new BlockWrites() {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                }
            }, header.chunkPassphrase(chunkName, passphrase), cost);
            inChunk = 0;
        }

        private void finishChunk() throws IOException {
            chunk.close();
            long size = position - headerAt - TarBlocks.BLOCK;
            String chunkName = name + String.format(".%03d.enc", index);
            byte[] h = TarBlocks.fileHeader(chunkName, size, mtime);
            if (h.length != TarBlocks.BLOCK) {
                throw new IllegalStateException("a chunk needs one header block");
            }
            out.flush();
            ByteBuffer buf = ByteBuffer.wrap(h);
            long at = headerAt;
            while (buf.hasRemaining()) {
                at += target.write(buf, at);
            }
            out.write(new byte[TarBlocks.padding(size)]);
            TarBlocks.endArchive(out, TarBlocks.BLOCK + TarBlocks.padded(size));
            chunk = null;
            index++;
        }

        @Override
        public void close() throws IOException {
            if (chunk != null || index == 0) {
                if (chunk == null) {
                    open();
                }
                finishChunk();
            }
        }
    }
}
