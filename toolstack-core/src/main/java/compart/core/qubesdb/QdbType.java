package compart.core.qubesdb;

import java.util.Optional;

/**
 * The message types of the QubesDB protocol, with their numbers on the wire ({@code enum qdb_msg}). Over the
 * vchan between dom0 and a qube only {@link #WRITE}, {@link #MULTIREAD}, {@link #RM} and the responses
 * {@link #RESP_OK}, {@link #RESP_ERROR}, {@link #RESP_MULTIREAD} are valid; the others belong to the local
 * socket of a daemon and end the connection when they come over the vchan.
 */
public enum QdbType {
    READ, WRITE, MULTIREAD, LIST, RM, WATCH, UNWATCH,
    RESP_OK, RESP_ERROR_NOENT, RESP_ERROR, RESP_READ, RESP_MULTIREAD, RESP_LIST, RESP_WATCH;

    /** @return the number on the wire */
    public int code() {
        return ordinal();
    }

    /** @return the type with that number, if there is one */
    public static Optional<QdbType> of(int code) {
        return code >= 0 && code < values().length ? Optional.of(values()[code]) : Optional.empty();
    }

    /** @return whether the type may come over the vchan from the other daemon (upstream's check of headers) */
    public boolean validOnVchan() {
        return switch (this) {
            case WRITE, MULTIREAD, RM, RESP_OK, RESP_ERROR, RESP_MULTIREAD -> true;
            default -> false;
        };
    }
}
