package compart.errors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class CompartExceptionTest {

    @Test
    void carriesKindMessageAndCause() {
        var cause = new IOException("disk gone");
        var e = new CompartException(ErrorKind.STORAGE, "volume work:private could not be started", cause);

        assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
        assertThat(e.getMessage()).isEqualTo("volume work:private could not be started");
        assertThat(e.getCause()).isSameAs(cause);
        assertThat(e).isInstanceOf(RuntimeException.class);
    }

    @Test
    void shorthands_formatTheMessage_andSetTheKind() {
        assertThat(CompartException.notFound("no such qube: %s", "work"))
                .hasMessage("no such qube: work")
                .extracting(CompartException::kind).isEqualTo(ErrorKind.NOT_FOUND);
        assertThat(CompartException.invalidValue("bad memory %d", -1).kind()).isEqualTo(ErrorKind.INVALID_VALUE);
        assertThat(CompartException.invalidState("qube %s is running", "work").kind())
                .isEqualTo(ErrorKind.INVALID_STATE);
    }

    @Test
    void blankMessage_isRefused_becauseUsersMustBeToldWhatFailed() {
        assertThatThrownBy(() -> new CompartException(ErrorKind.TIMEOUT, " "))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CompartException(ErrorKind.TIMEOUT, null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void nullKind_isRefused() {
        assertThatThrownBy(() -> new CompartException(null, "x")).isInstanceOf(NullPointerException.class);
    }

    @Test
    void toString_namesTheKind() {
        assertThat(new CompartException(ErrorKind.PROTOCOL, "bad frame").toString())
                .isEqualTo("CompartException[PROTOCOL]: bad frame");
    }
}
