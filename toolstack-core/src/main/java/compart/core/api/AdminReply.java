package compart.core.api;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Reply frames of the Admin API. Each starts with a one-byte code and a NUL: {@code 0} success followed by the
 * payload; {@code 2} an exception: {@code 2 NUL TYPE NUL TRACEBACK NUL MESSAGE NUL} (we never send a traceback);
 * {@code 1} an event of {@code admin.Events}: {@code 1 NUL SUBJECT NUL EVENT NUL (KEY NUL VALUE NUL)* NUL}.
 */
public final class AdminReply {
    private AdminReply() {
    }

    /** @return a success frame carrying {@code payload} (UTF-8) */
    public static byte[] ok(String payload) {
        byte[] p = payload == null ? new byte[0] : payload.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[2 + p.length];
        out[0] = '0';
        System.arraycopy(p, 0, out, 2, p.length);
        return out;
    }

    /** @return an exception frame with the Qubes exception class name and message */
    public static byte[] exception(String type, String message) {
        var b = new ByteArrayOutputStream();
        b.write('2');
        b.write(0);
        b.writeBytes(type.getBytes(StandardCharsets.US_ASCII));
        b.write(0);
        b.write(0); // no traceback
        b.writeBytes(message.replace('\0', ' ').getBytes(StandardCharsets.UTF_8));
        b.write(0);
        return b.toByteArray();
    }

    /** @return an event frame */
    public static byte[] event(String subject, String event, Map<String, String> kwargs) {
        var b = new ByteArrayOutputStream();
        b.write('1');
        b.write(0);
        b.writeBytes(subject.getBytes(StandardCharsets.UTF_8));
        b.write(0);
        b.writeBytes(event.getBytes(StandardCharsets.UTF_8));
        b.write(0);
        kwargs.forEach((k, v) -> {
            b.writeBytes(k.getBytes(StandardCharsets.UTF_8));
            b.write(0);
            b.writeBytes(v.replace('\0', ' ').getBytes(StandardCharsets.UTF_8));
            b.write(0);
        });
        b.write(0);
        return b.toByteArray();
    }
}
