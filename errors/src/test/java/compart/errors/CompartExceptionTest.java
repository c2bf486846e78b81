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

    @Test
    void refusal_isAVisibleField_withTheReasonsKind() {
        var e = Refusal.NOT_HALTED.exception("Domain is not powered off: '%s'", "work");

        assertThat(e.refusal()).contains(Refusal.NOT_HALTED);
        assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_STATE);
        assertThat(e).hasMessage("Domain is not powered off: 'work'").hasNoCause();
        assertThat(Refusal.NO_SUCH_LABEL.exception("no label %s", "pink").kind()).isEqualTo(ErrorKind.NOT_FOUND);
    }

    @Test
    void refusal_ofAWrappingFailure_isTheWrappedOnes_andAPlainFailureHasNone() {
        var step = Refusal.NOT_ENOUGH_MEMORY.exception("Not enough memory to start domain '%s'", "work");
        var plan = new CompartException(ErrorKind.INVALID_STATE, "start of work failed: " + step.getMessage(), step);

        assertThat(plan.refusal()).contains(Refusal.NOT_ENOUGH_MEMORY);
        assertThat(new CompartException(ErrorKind.STORAGE, "disk gone").refusal()).isEmpty();
        assertThat(new CompartException(ErrorKind.STORAGE, "disk gone", new IllegalStateException("x")).refusal())
                .isEmpty();
    }
}
