package compart.core.backup;

import compart.core.api.BulkReadStream;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.generators.SCrypt;

/**
 * The file format of the {@code scrypt} tool ({@code scrypt enc}/{@code dec}, Tarsnap's), which Qubes' backup
 * format version 4 uses for every file it encrypts and authenticates: a 96-byte header (magic {@code scrypt},
 * version 0, the cost, a 32-byte salt, a SHA-256 check of those and an HMAC-SHA-256 that proves the passphrase),
 * the data in AES-256-CTR (counter from zero) and a trailing HMAC-SHA-256 over header and ciphertext. The keys are
 * the two halves of {@code scrypt(passphrase, salt, N, r, p, 64)}.
 *
 * <p>Key derivation is Bouncy Castle's scrypt; the cipher and the MAC are the JDK's (AES-NI intrinsics).
 * Stateless and thread-safe; the streams it returns are not.
 */
public final class ScryptEnvelope {

    /** Bytes before the ciphertext. */
    public static final int HEADER_BYTES = 96;
    /** Bytes after the ciphertext. */
    public static final int TRAILER_BYTES = 32;

    private static final byte[] MAGIC = "scrypt".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private ScryptEnvelope() {
    }

    /** The derived keys of one envelope: cipher key and MAC key. */
    record Keys(byte[] cipher, byte[] mac) {
    }

    /**
     * Opens an encrypting stream: writes the header now, the ciphertext as data comes and the trailing MAC on
     * {@link OutputStream#close()}, which also closes {@code out}.
     *
     * @param out where the envelope goes
     * @param passphrase the passphrase bytes (Qubes prefixes the file's name, see {@link BackupHeader})
     * @param cost the key derivation cost to record in the header
     * @return the plaintext side
     * @throws IOException when {@code out} fails
     */
    public static OutputStream encrypt(OutputStream out, byte[] passphrase, ScryptCost cost) throws IOException {
        byte[] header = new byte[HEADER_BYTES];
        System.arraycopy(MAGIC, 0, header, 0, 6);
        header[6] = 0;
        header[7] = (byte) cost.logN();
        ByteBuffer.wrap(header, 8, 8).putInt(cost.r()).putInt(cost.p());
        byte[] salt = new byte[32];
        RANDOM.nextBytes(salt);
        System.arraycopy(salt, 0, header, 16, 32);
        System.arraycopy(sha256(header, 48), 0, header, 48, 16);
        Keys keys = derive(passphrase, salt, cost);
        Mac mac = mac(keys.mac());
        mac.update(header, 0, 64);
        System.arraycopy(mac.doFinal(), 0, header, 64, 32);
        mac.update(header);
        out.write(header);
        return new EncryptingStream(out, cipher(Cipher.ENCRYPT_MODE, keys.cipher()), mac);
    }

    /**
     * Checks an envelope's header and the passphrase against it (no data read).
     *
     * @param untrustedHeader the first {@value #HEADER_BYTES} bytes
     * @param passphrase the passphrase bytes
     * @param limit the largest cost accepted (a hostile header must not make us allocate without bound)
     * @param what names the file in messages
     * @return the derived keys
     * @throws CompartException INVALID_VALUE for a malformed header, a cost above {@code limit} or a wrong passphrase
     */
    static Keys open(byte[] untrustedHeader, byte[] passphrase, long limit, String what) {
        if (untrustedHeader.length != HEADER_BYTES
                || !Arrays.equals(untrustedHeader, 0, 6, MAGIC, 0, 6) || untrustedHeader[6] != 0) {
            throw CompartException.invalidValue("%s: not a scrypt-encrypted file (bad magic)", what);
        }
        if (!MessageDigest.isEqual(Arrays.copyOf(sha256(untrustedHeader, 48), 16),
                Arrays.copyOfRange(untrustedHeader, 48, 64))) {
            throw CompartException.invalidValue("%s: the scrypt header checksum does not match (corrupted file)", what);
        }
        ByteBuffer b = ByteBuffer.wrap(untrustedHeader);
        ScryptCost cost;
        try {
            cost = new ScryptCost(untrustedHeader[7] & 0xff, b.getInt(8), b.getInt(12));
        } catch (CompartException e) {
            throw CompartException.invalidValue("%s: %s", what, e.getMessage());
        }
        if (cost.memoryBytes() > limit) {
            throw CompartException.invalidValue(
                    "%s: its scrypt cost (logN=%d r=%d p=%d) needs %d MiB, more than the %d MiB allowed", what,
                    cost.logN(), cost.r(), cost.p(), cost.memoryBytes() >> 20, limit >> 20);
        }
        Keys keys = derive(passphrase, Arrays.copyOfRange(untrustedHeader, 16, 48), cost);
        Mac mac = mac(keys.mac());
        mac.update(untrustedHeader, 0, 64);
        if (!MessageDigest.isEqual(mac.doFinal(), Arrays.copyOfRange(untrustedHeader, 64, 96))) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED,
                    what + ": wrong passphrase (or the file was tampered with): its scrypt header does not verify");
        }
        return keys;
    }

    /**
     * Reads a whole envelope of known length from {@code in}, checking its MAC, and passes the plaintext to
     * {@code sink} as it goes. The plaintext is unauthenticated until this returns normally.
     *
     * @param in positioned at the envelope's first byte
     * @param length the envelope's length (header, ciphertext and trailer)
     * @param passphrase the passphrase bytes
     * @param limit the largest scrypt memory accepted
     * @param what names the file in messages
     * @param sink gets the plaintext, in order; may be a discarding sink for a check only
     * @throws IOException when {@code in} or {@code sink} fails
     * @throws CompartException INVALID_VALUE when the file is truncated, malformed or its MAC does not verify;
     *         PERMISSION_DENIED for a wrong passphrase
     */
    public static void decrypt(InputStream in, long length, byte[] passphrase, long limit, String what,
                               OutputStream sink) throws IOException {
        decrypting(in, length, passphrase, limit, what).transferTo(sink);
    }

    /**
     * Opens a decrypting stream over an envelope of known length: checks the header and the passphrase now, returns
     * plaintext as it is read and checks the trailing MAC when the end is reached (the read that would return end of
     * stream throws instead when it does not verify). Never reads past the envelope.
     *
     * @throws CompartException as {@link #decrypt}
     */
    public static InputStream decrypting(InputStream in, long length, byte[] passphrase, long limit, String what)
            throws IOException {
        if (length < HEADER_BYTES + TRAILER_BYTES) {
            throw CompartException.invalidValue("%s: %d bytes is too short for a scrypt-encrypted file", what, length);
        }
        byte[] header = in.readNBytes(HEADER_BYTES);
        if (header.length < HEADER_BYTES) {
            throw truncated(what);
        }
        Keys keys = open(header, passphrase, limit, what);
        Mac mac = mac(keys.mac());
        mac.update(header);
        return new DecryptingStream(in, length - HEADER_BYTES - TRAILER_BYTES, cipher(Cipher.DECRYPT_MODE,
                keys.cipher()), mac, what);
    }

    /** Ciphertext in, plaintext out; MAC checked at the end. */
    private static final class DecryptingStream extends BulkReadStream {
        private final InputStream in;
        private final Cipher cipher;
        private final Mac mac;
        private final String what;
        private long left;
        private boolean verified;
        private byte[] buf = new byte[1 << 16];

        DecryptingStream(InputStream in, long left, Cipher cipher, Mac mac, String what) {
            this.in = in;
            this.left = left;
            this.cipher = cipher;
            this.mac = mac;
            this.what = what;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (left == 0) {
                finish();
                return -1;
            }
            int want = (int) Math.min(Math.min(len, 1 << 16), left);
            int n = in.read(buf, 0, want);
            if (n < 0) {
                throw truncated(what);
            }
            mac.update(buf, 0, n);
            try {
                int m = cipher.update(buf, 0, n, b, off);
                left -= n;
                return m;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-CTR refused a buffer", e);
            }
        }

        private void finish() throws IOException {
            if (verified) {
                return;
            }
            byte[] trailer = in.readNBytes(TRAILER_BYTES);
            if (trailer.length < TRAILER_BYTES) {
                throw truncated(what);
            }
            if (!MessageDigest.isEqual(mac.doFinal(), trailer)) {
                throw CompartException.invalidValue("%s: its authentication code does not match: the file was"
                        + " changed or corrupted", what);
            }
            verified = true;
        }
    }

    private static CompartException truncated(String what) {
        return CompartException.invalidValue("%s: the file ends early (truncated backup)", what);
    }

    private static Keys derive(byte[] passphrase, byte[] salt, ScryptCost cost) {
        byte[] dk = SCrypt.generate(passphrase, salt, 1 << cost.logN(), cost.r(), cost.p(), 64);
        return new Keys(Arrays.copyOf(dk, 32), Arrays.copyOfRange(dk, 32, 64));
    }

    private static byte[] sha256(byte[] data, int length) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(data, 0, length);
            return d.digest();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static Mac mac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no HMAC-SHA-256", e);
        }
    }

    private static Cipher cipher(int mode, byte[] key) {
        try {
            Cipher c = Cipher.getInstance("AES/CTR/NoPadding");
            c.init(mode, new SecretKeySpec(key, "AES"), new IvParameterSpec(new byte[16]));
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no AES-CTR", e);
        }
    }

    /** Plaintext in, ciphertext out; MAC trailer on close. */
    private static final class EncryptingStream extends BlockWrites {
        private final OutputStream out;
        private final Cipher cipher;
        private final Mac mac;
        private byte[] buf = new byte[1 << 16];
        private boolean closed;

        EncryptingStream(OutputStream out, Cipher cipher, Mac mac) {
            this.out = out;
            this.cipher = cipher;
            this.mac = mac;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int n = Math.min(len, 1 << 16);
                if (buf.length < n + 16) {
                    buf = new byte[n + 16];
                }
                int m;
                try {
                    m = cipher.update(b, off, n, buf);
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("AES-CTR refused a buffer", e);
                }
                mac.update(buf, 0, m);
                out.write(buf, 0, m);
                off += n;
                len -= n;
            }
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            out.write(mac.doFinal());
            out.close();
        }
    }
}
