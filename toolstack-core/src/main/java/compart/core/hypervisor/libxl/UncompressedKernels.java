package compart.core.hypervisor.libxl;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tukaani.xz.SingleXZInputStream;

/**
 * The kernels of PVH qubes, kept uncompressed. A qube's {@code vmlinuz} is a bzImage whose payload is the kernel's
 * ELF image, compressed (xz in Debian's and Fedora's kernels); libxl's domain builder decompresses it at every
 * start, in the calling process (a 66 MB image: ~0.6 s on hardware, many seconds under QEMU's TCG). Given the
 * ELF image itself it loads it directly, with the same result: the bzImage loader only unpacks the payload and
 * hands it to the ELF loader. So the payload is unpacked once per kernel file into a cache directory and the
 * start gets the cached file.
 *
 * <p>Only for PVH (an HVM qube's kernel goes to QEMU, which needs the bzImage). A kernel it cannot unpack (another
 * compression, not a bzImage, an unwritable cache) is used as it is, with one log line. The cache holds one file
 * per kernel path, named after the kernel's path, size and modification time; a changed kernel replaces it.
 */
final class UncompressedKernels {
    private static final Logger LOG = LoggerFactory.getLogger(UncompressedKernels.class);
    /** Where the package keeps them (FHS: data a program can rebuild). */
    static final Path DEFAULT_CACHE = Path.of("/var/cache/compart/kernels");
    /** bzImage header fields (the Linux x86 boot protocol, version 2.08 and later). */
    private static final int SETUP_SECTS = 0x1f1;
    private static final int HEADER_MAGIC = 0x202;
    private static final int VERSION = 0x206;
    private static final int PAYLOAD_OFFSET = 0x248;
    private static final int PAYLOAD_LENGTH = 0x24c;

    private final Path cache;
    private final ConcurrentHashMap<Path, Object> locks = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Path, Boolean> reported = new ConcurrentHashMap<>();

    UncompressedKernels(Path cache) {
        this.cache = cache;
    }

    /** @return the uncompressed ELF image of {@code kernel}, made now if needed; else {@code kernel} itself */
    Path forDirectBoot(Path kernel) {
        try {
            synchronized (locks.computeIfAbsent(kernel.toAbsolutePath(), k -> new Object())) {
                return unpacked(kernel);
            }
        } catch (IOException | RuntimeException e) {
            if (reported.putIfAbsent(kernel, Boolean.TRUE) == null) {
                LOG.warn("{} is booted as it is (libxl unpacks it at each start): {}", kernel, e.toString());
            }
            return kernel;
        }
    }

    private Path unpacked(Path kernel) throws IOException {
        long size = Files.size(kernel);
        long mtime = Files.getLastModifiedTime(kernel).toMillis();
        String base = kernel.toAbsolutePath().toString().substring(1).replace('/', '_');
        Path elf = cache.resolve(base + "." + size + "." + mtime + ".elf");
        if (Files.isRegularFile(elf)) {
            return elf;
        }
        Optional<Payload> payload = payloadOf(kernel);
        if (payload.isEmpty()) {
            throw new IOException("not a bzImage with an xz or gzip payload");
        }
        Files.createDirectories(cache);
        Path partial = Files.createTempFile(cache, base, ".partial");
        long t0 = System.nanoTime();
        try (FileChannel in = FileChannel.open(kernel, StandardOpenOption.READ);
             InputStream raw = new BufferedInputStream(
                     Channels.newInputStream(in.position(payload.get().offset())), 1 << 16);
             InputStream unpacked = payload.get().open(new Bounded(raw, payload.get().length()));
             OutputStream out = Files.newOutputStream(partial)) {
            unpacked.transferTo(out);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(partial);
            throw e;
        }
        byte[] magic = new byte[4];
        try (InputStream check = Files.newInputStream(partial)) {
            if (check.readNBytes(magic, 0, 4) != 4 || magic[0] != 0x7f || magic[1] != 'E' || magic[2] != 'L'
                    || magic[3] != 'F') {
                Files.deleteIfExists(partial);
                throw new IOException("its payload is not an ELF image");
            }
        }
        Files.move(partial, elf, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        LOG.info("{} unpacked once for direct boot: {} ({} MiB, {} ms)", kernel, elf, Files.size(elf) >> 20,
                (System.nanoTime() - t0) / 1_000_000);
        forgetOlder(base, elf);
        return elf;
    }

    /** Removes the cached images of earlier versions of the same kernel path. */
    private void forgetOlder(String base, Path current) throws IOException {
        try (var files = Files.newDirectoryStream(cache, base + ".*.elf")) {
            for (Path f : files) {
                if (!f.equals(current)) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /** Where a bzImage's compressed payload is and how it is compressed. */
    record Payload(long offset, long length, boolean xz) {
        InputStream open(InputStream compressed) throws IOException {
            return xz ? new SingleXZInputStream(compressed) : new GZIPInputStream(compressed, 1 << 16);
        }
    }

    /** @return the payload of a bzImage (boot protocol 2.08+) compressed with xz or gzip, else empty */
    static Optional<Payload> payloadOf(Path kernel) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(0x260).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel in = FileChannel.open(kernel, StandardOpenOption.READ)) {
            while (header.hasRemaining() && in.read(header) > 0) {
                // reads the header
            }
            if (header.hasRemaining() || header.getInt(HEADER_MAGIC) != 0x53726448 /* "HdrS" */
                    || (header.getShort(VERSION) & 0xffff) < 0x0208) {
                return Optional.empty();
            }
            int sects = header.get(SETUP_SECTS) & 0xff;
            long offset = (long) ((sects == 0 ? 4 : sects) + 1) * 512 + (header.getInt(PAYLOAD_OFFSET) & 0xffffffffL);
            long length = header.getInt(PAYLOAD_LENGTH) & 0xffffffffL;
            if (length < 6 || offset + length > in.size()) {
                return Optional.empty();
            }
            ByteBuffer magic = ByteBuffer.allocate(6);
            in.read(magic, offset);
            byte[] m = magic.array();
            if (m[0] == (byte) 0xfd && m[1] == '7' && m[2] == 'z' && m[3] == 'X' && m[4] == 'Z' && m[5] == 0) {
                // the kernel appends the uncompressed size (4 bytes) after the xz stream: one stream is read
                return Optional.of(new Payload(offset, length, true));
            }
            if (m[0] == 0x1f && m[1] == (byte) 0x8b) {
                return Optional.of(new Payload(offset, length, false));
            }
            return Optional.empty();
        }
    }

    /** The first {@code limit} bytes of a stream. */
    private static final class Bounded extends InputStream {
        private final InputStream in;
        private long left;

        Bounded(InputStream in, long limit) {
            this.in = in;
            this.left = limit;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }
}
