package compart.core.qrexec;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessageStreamTest {

    /** A link that reads from fixed bytes, a few at a time, and records what is written. */
    private static final class BytesLink implements Link {
        private final byte[] in;
        private int pos;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        BytesLink(byte[]... messages) {
            var all = new ByteArrayOutputStream();
            for (byte[] m : messages) {
                all.writeBytes(m);
            }
            in = all.toByteArray();
        }

        @Override
        public int read(byte[] into, int offset, int length) {
            if (pos == in.length) {
                return -1;
            }
            int n = Math.min(3, Math.min(length, in.length - pos));
            System.arraycopy(in, pos, into, offset, n);
            pos += n;
            return n;
        }

        @Override
        public void write(byte[] bytes) {
            out.writeBytes(bytes);
        }

        @Override
        public void close() {
        }
    }

    @Test
    void handshake_sendsVersion4_andSettlesOnAVersion3Peers() {
        var link = new BytesLink(MessageCodec.encode(new Message.Hello(3)));
        assertThat(new MessageStream(link).handshake()).isEqualTo(3);
        assertThat(link.out.toByteArray()).isEqualTo(MessageCodec.encode(new Message.Hello(4)));
    }

    @Test
    void answerHello_repliesWithTheVersionBothSpeak_asQubesDaemonAnswersTheAgent() {
        for (int agent : new int[] {3, 4, 5}) {
            var link = new BytesLink(MessageCodec.encode(new Message.Hello(agent)));
            assertThat(new MessageStream(link).answerHello()).isEqualTo(Math.min(agent, 4));
            assertThat(link.out.toByteArray()).isEqualTo(MessageCodec.encode(new Message.Hello(Math.min(agent, 4))));
        }
    }

    @Test
    void handshake_withAVersion2Peer_isAProtocolError() {
        var link = new BytesLink(MessageCodec.encode(new Message.Hello(2)));
        assertThatThrownBy(() -> new MessageStream(link).handshake())
                .isInstanceOfSatisfying(CompartException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.PROTOCOL))
                .hasMessageContaining("version 2");
    }

    @Test
    void handshake_withDataFirst_isAProtocolError() {
        var link = new BytesLink(MessageCodec.encode(new Message.ExitCode(0)));
        assertThatThrownBy(() -> new MessageStream(link).handshake()).hasMessageContaining("expected a hello");
    }

    @Test
    void read_messagesSplitAcrossReads_thenCleanEndOfStream() {
        var stream = new MessageStream(new BytesLink(
                MessageCodec.encode(new Message.Data(Message.Data.Stream.STDOUT, "hello".getBytes())),
                MessageCodec.encode(new Message.ExitCode(5))));
        assertThat(stream.read()).isEqualTo(new Message.Data(Message.Data.Stream.STDOUT, "hello".getBytes()));
        assertThat(stream.read()).isEqualTo(new Message.ExitCode(5));
        assertThat(stream.read()).isNull();
    }

    @Test
    void read_streamEndingInsideAMessage_isAProtocolError() {
        byte[] whole = MessageCodec.encode(new Message.Data(Message.Data.Stream.STDOUT, "hello".getBytes()));
        var stream = new MessageStream(new BytesLink(Arrays.copyOf(whole, whole.length - 2)));
        assertThatThrownBy(stream::read).hasMessageContaining("stream ended inside a message");
    }
}
