package compart.core.qubesdb;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One QubesDB message: its type, a path (empty for a terminator or a full MULTIREAD) and its data.
 *
 * @param type the message type
 * @param path the path, checked by {@link QdbPath#check} (may end with '/' or be empty)
 * @param data the data, at most {@link QdbCodec#MAX_DATA_LEN} bytes, never a NUL byte
 */
public record QdbMessage(QdbType type, String path, byte[] data) {
    /** Checks the path and the data as the receiving daemon would. */
    public QdbMessage {
        Objects.requireNonNull(type, "type");
        QdbPath.check(path);
        data = data.clone();
        QdbCodec.checkData(data);
    }

    /** @return a message without data */
    public static QdbMessage of(QdbType type, String path) {
        return new QdbMessage(type, path, new byte[0]);
    }

    /** @return a message with {@code text} (ASCII/UTF-8) as data */
    public static QdbMessage of(QdbType type, String path, String text) {
        return new QdbMessage(type, path, text.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    /** @return the data as UTF-8 text */
    public String text() {
        return new String(data, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QdbMessage m && m.type == type && m.path.equals(path) && Arrays.equals(m.data, data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, path, Arrays.hashCode(data));
    }

    @Override
    public String toString() {
        return type + " " + (path.isEmpty() ? "''" : path) + " (" + data.length + " bytes)";
    }
}
