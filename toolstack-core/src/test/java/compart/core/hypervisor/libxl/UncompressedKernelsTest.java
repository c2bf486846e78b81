package compart.core.hypervisor.libxl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.FilterOptions;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.X86Options;
import org.tukaani.xz.XZOutputStream;

/**
 * A PVH qube's kernel is unpacked once, and its starts get the ELF image that libxl would otherwise unpack from the
 * bzImage every time. The kernels here are bzImages built as the kernel's build does: a setup header ("HdrS",
 * boot protocol 2.15) whose payload fields point at the compressed ELF image, xz with the x86 filter and the
 * uncompressed size appended, or gzip.
 */
class UncompressedKernelsTest {
    @TempDir
    Path tmp;

    static byte[] elfImage(int size, long seed) {
        byte[] elf = new byte[size];
        new Random(seed).nextBytes(elf);
        for (int i = 64; i < size; i += 3) {
            elf[i] = 0; // compressible, as code is
        }
        elf[0] = 0x7f;
        elf[1] = 'E';
        elf[2] = 'L';
        elf[3] = 'F';
        return elf;
    }

    static byte[] xz(byte[] data) throws IOException {
        var out = new ByteArrayOutputStream();
        try (OutputStream xz = new XZOutputStream(out, new FilterOptions[] {new X86Options(), new LZMA2Options(1)})) {
            xz.write(data);
        }
        ByteBuffer size = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(data.length);
        out.write(size.array());
        return out.toByteArray();
    }

    static byte[] gzip(byte[] data) throws IOException {
        var out = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    /** A bzImage: 27 setup sectors after the boot sector, then the protected-mode part with the payload at 0x2c4. */
    static byte[] bzImage(byte[] payload) {
        int sects = 27;
        int payloadOffset = 0x2c4;
        ByteBuffer image = ByteBuffer.allocate((sects + 1) * 512 + payloadOffset + payload.length + 64)
                .order(ByteOrder.LITTLE_ENDIAN);
        image.put(0x1f1, (byte) sects);
        image.putInt(0x202, 0x53726448);
        image.putShort(0x206, (short) 0x020f);
        image.putInt(0x248, payloadOffset);
        image.putInt(0x24c, payload.length);
        image.put((sects + 1) * 512 + payloadOffset, payload);
        return image.array();
    }

    Path write(String name, byte[] data) throws IOException {
        Path file = Files.createDirectories(tmp.resolve("vm-kernels/6.1.0")).resolve(name);
        Files.write(file, data);
        return file;
    }

    @Test
    void anXzBzImage_isUnpackedOnce_toItsElfImage() throws IOException {
        byte[] elf = elfImage(2 << 20, 1);
        Path kernel = write("vmlinuz", bzImage(xz(elf)));
        var kernels = new UncompressedKernels(tmp.resolve("cache"));

        Path image = kernels.forDirectBoot(kernel);

        assertThat(image).isNotEqualTo(kernel).startsWith(tmp.resolve("cache"));
        assertThat(Files.readAllBytes(image)).isEqualTo(elf);
        FileTime made = Files.getLastModifiedTime(image);
        Files.setLastModifiedTime(image, FileTime.fromMillis(made.toMillis() - 60_000));
        assertThat(kernels.forDirectBoot(kernel)).as("the second start").isEqualTo(image);
        assertThat(Files.getLastModifiedTime(image).toMillis()).as("not written again")
                .isEqualTo(made.toMillis() - 60_000);
    }

    @Test
    void aGzipBzImage_isUnpackedToo() throws IOException {
        byte[] elf = elfImage(1 << 20, 2);
        Path kernel = write("vmlinuz", bzImage(gzip(elf)));

        Path image = new UncompressedKernels(tmp.resolve("cache")).forDirectBoot(kernel);

        assertThat(Files.readAllBytes(image)).isEqualTo(elf);
    }

    @Test
    void aChangedKernel_replacesItsImage_inTheCache() throws IOException {
        Path kernel = write("vmlinuz", bzImage(xz(elfImage(1 << 20, 3))));
        var kernels = new UncompressedKernels(tmp.resolve("cache"));
        Path first = kernels.forDirectBoot(kernel);

        byte[] updated = elfImage(2 << 20, 4);
        Files.write(kernel, bzImage(xz(updated)));
        Path second = kernels.forDirectBoot(kernel);

        assertThat(second).isNotEqualTo(first);
        assertThat(Files.readAllBytes(second)).isEqualTo(updated);
        assertThat(first).doesNotExist();
    }

    @Test
    void whatIsNotABzImage_orHoldsNoElfImage_isBootedAsItIs_andLeavesNothingInTheCache() throws IOException {
        var kernels = new UncompressedKernels(tmp.resolve("cache"));
        Path elf = write("vmlinux", elfImage(1 << 16, 5));
        byte[] notElf = elfImage(1 << 16, 6);
        notElf[0] = 'M';
        Path odd = write("vmlinuz-odd", bzImage(xz(notElf)));
        Path zstd = write("vmlinuz-zstd", bzImage(new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0, 0, 0, 0}));

        assertThat(kernels.forDirectBoot(elf)).isEqualTo(elf);
        assertThat(kernels.forDirectBoot(odd)).isEqualTo(odd);
        assertThat(kernels.forDirectBoot(zstd)).isEqualTo(zstd);
        assertThat(tmp.resolve("cache")).satisfiesAnyOf(
                c -> assertThat(c).doesNotExist(), c -> assertThat(c).isEmptyDirectory());
    }

    @Test
    void anUnwritableCache_bootsTheKernelAsItIs() throws IOException {
        Path kernel = write("vmlinuz", bzImage(xz(elfImage(1 << 16, 7))));
        Path blocked = Files.writeString(tmp.resolve("not-a-directory"), "x");

        assertThat(new UncompressedKernels(blocked).forDirectBoot(kernel)).isEqualTo(kernel);
    }
}
