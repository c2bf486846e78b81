package compart.core.qubesdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The bytes of QubesDB messages, derived by hand from {@code struct qdb_hdr} (checked by QdbHeaderLayoutTest). */
class QdbCodecTest {

    /** A header as the C struct lays it out: type, path NUL-padded to 64, 3 bytes of padding, data_len LE. */
    private static byte[] header(int type, String path, long dataLen) {
        byte[] h = new byte[72];
        h[0] = (byte) type;
        byte[] p = path.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(p, 0, h, 1, Math.min(p.length, 64));
        h[68] = (byte) dataLen;
        h[69] = (byte) (dataLen >> 8);
        h[70] = (byte) (dataLen >> 16);
        h[71] = (byte) (dataLen >> 24);
        return h;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void aWrite_isTheHeaderThenTheValue() {
        assertThat(QdbCodec.encode(QdbMessage.of(QdbType.WRITE, "/qubes-ip", "10.137.0.5")))
                .isEqualTo(concat(header(1, "/qubes-ip", 10), "10.137.0.5".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void theMultireadTerminator_isAnEmptyPathWithoutData() {
        assertThat(QdbCodec.encode(QdbMessage.of(QdbType.RESP_MULTIREAD, ""))).isEqualTo(header(11, "", 0));
    }

    @Test
    void typesHaveUpstreamsNumbers() {
        assertThat(QdbType.values()).extracting(QdbType::code).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                12, 13);
        assertThat(QdbType.of(14)).isEmpty();
    }

    @Test
    void decodingAHeaderFromTheQube_givesItsTypePathAndLength() {
        assertThat(QdbCodec.decodeHeader(header(2, "", 0), 0))
                .isEqualTo(new QdbCodec.Header(QdbType.MULTIREAD, "", 0));
        assertThat(QdbCodec.decodeHeader(header(1, "/qubes-firewall-handled/10.137.0.5", 3071), 0))
                .isEqualTo(new QdbCodec.Header(QdbType.WRITE, "/qubes-firewall-handled/10.137.0.5", 3071));
    }

    @Test
    void the64thPathByte_isIgnored_asUpstreamForcesItToNul() {
        String p = "/" + "a".repeat(63);
        assertThat(QdbCodec.decodeHeader(header(4, p, 0), 0).path()).isEqualTo(p.substring(0, 63));
    }

    @Test
    void typesOfTheLocalSocketOnly_areRefusedFromTheQube() {
        for (int type : new int[] {0, 3, 5, 6, 8, 10, 12, 13, 14, 255}) {
            assertThatThrownBy(() -> QdbCodec.decodeHeader(header(type, "/x", 0), 0))
                    .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.kind())
                            .isEqualTo(ErrorKind.PROTOCOL)).hasMessageContaining("type " + type);
        }
    }

    @Test
    void aDataLengthOfQdbMaxDataOrMore_isRefused() {
        assertThatThrownBy(() -> QdbCodec.decodeHeader(header(1, "/x", 3072), 0)).hasMessageContaining("3072");
        assertThatThrownBy(() -> QdbCodec.decodeHeader(header(1, "/x", 0xffffffffL), 0))
                .hasMessageContaining("4294967295");
    }

    @Test
    void pathsFollowUpstreamsCharacterRules() {
        assertThat(QdbPath.valid("/qubes-service/meminfo-writer")).isTrue();
        assertThat(QdbPath.valid("/a_b.c:d@e-f/")).isTrue();
        assertThat(QdbPath.valid("")).isTrue();
        assertThat(QdbPath.valid("-x")).isFalse();
        assertThat(QdbPath.valid("/a b")).isFalse();
        assertThat(QdbPath.valid("/a\u00e9")).isFalse();
        assertThat(QdbPath.valid("/" + "a".repeat(62))).isTrue();
        assertThat(QdbPath.valid("/" + "a".repeat(63))).isFalse();
        assertThat(QdbPath.validEntry("/dir/")).isFalse();
        assertThat(QdbPath.validEntry("name")).isFalse();
        assertThatThrownBy(() -> QdbCodec.decodeHeader(header(1, "/a$b", 0), 0)).hasMessageContaining("invalid path");
    }

    @Test
    void valuesWithANulByteOrTooLong_areNotValues() {
        assertThat(QdbCodec.dataValid(new byte[] {'a', 0})).isFalse();
        assertThat(QdbCodec.dataValid(new byte[3071])).isFalse(); // NUL bytes
        assertThat(QdbCodec.dataValid("x".repeat(3071).getBytes(StandardCharsets.US_ASCII))).isTrue();
        assertThat(QdbCodec.dataValid("x".repeat(3072).getBytes(StandardCharsets.US_ASCII))).isFalse();
    }
}
