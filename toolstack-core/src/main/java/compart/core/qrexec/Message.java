package compart.core.qrexec;

import java.util.Arrays;
import java.util.Objects;

/**
 * One qrexec message (protocol version 3 or 4), already checked: the values the decoder produced or the encoder will
 * write. On the wire every message is an 8-byte little-endian header ({@code type}, {@code len}) and {@code len}
 * bytes of payload; see {@link MessageCodec}.
 *
 * <p>Control messages travel on the control vchan (port {@value MessageCodec#CONTROL_PORT}, agent = server, dom0 =
 * client); data messages on one vchan per call (dom0 = server, agent = client). Both kinds of channel start with
 * a {@link Hello} from each side.
 */
public sealed interface Message {

    /** @return the numeric type written in the header */
    int type();

    /** Sent first on every channel by both ends: the highest protocol version the sender speaks. */
    record Hello(int version) implements Message {
        public int type() {
            return MessageCodec.MSG_HELLO;
        }
    }

    /**
     * Daemon to agent: start a process (or, for {@link Kind#SERVICE_CONNECT}, connect a waiting local caller) and
     * exchange its data over the vchan {@code connectPort} offered by domain {@code connectDomain}.
     *
     * @param command for EXEC_CMDLINE/JUST_EXEC {@code USER:COMMAND}; for SERVICE_CONNECT the request ident
     */
    record Exec(Kind kind, int connectDomain, int connectPort, String command) implements Message {
        public Exec {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(command, "command");
        }

        public int type() {
            return switch (kind) {
                case EXEC_CMDLINE -> MessageCodec.MSG_EXEC_CMDLINE;
                case JUST_EXEC -> MessageCodec.MSG_JUST_EXEC;
                case SERVICE_CONNECT -> MessageCodec.MSG_SERVICE_CONNECT;
            };
        }

        /** The three forms of {@code struct exec_params}. */
        public enum Kind { EXEC_CMDLINE, JUST_EXEC, SERVICE_CONNECT }
    }

    /** Daemon to agent: the call the agent asked for under {@code ident} is refused. */
    record ServiceRefused(String ident) implements Message {
        public ServiceRefused {
            Objects.requireNonNull(ident, "ident");
        }

        public int type() {
            return MessageCodec.MSG_SERVICE_REFUSED;
        }
    }

    /**
     * Agent to daemon: a process in the qube asks to call {@code service} (with its {@code +argument}) in
     * {@code target}: {@code MSG_TRIGGER_SERVICE3} (protocol 3) or {@code MSG_TRIGGER_SERVICE4} (protocol 4, which
     * adds the source the caller asks to act for; empty when none). Only the framing is checked: the strings are
     * the bytes the qube sent (ISO-8859-1, up to the field's NUL; an ident keeps its bytes after a NUL, a service
     * name without its final NUL gets one appended), to be checked by {@link QrexecDaemon} before any use.
     *
     * @param protocol 3 or 4: which message carried it
     */
    record TriggerService(int protocol, String untrustedSource, String untrustedTarget, String untrustedIdent,
                          String untrustedService) implements Message {
        public TriggerService {
            if (protocol != 3 && protocol != 4) {
                throw new IllegalArgumentException("protocol " + protocol);
            }
            Objects.requireNonNull(untrustedSource, "source");
            Objects.requireNonNull(untrustedTarget, "target");
            Objects.requireNonNull(untrustedIdent, "ident");
            Objects.requireNonNull(untrustedService, "service");
        }

        /** A protocol 3 trigger (no source field). */
        public TriggerService(String untrustedTarget, String untrustedIdent, String untrustedService) {
            this(3, "", untrustedTarget, untrustedIdent, untrustedService);
        }

        public int type() {
            return protocol == 4 ? MessageCodec.MSG_TRIGGER_SERVICE4 : MessageCodec.MSG_TRIGGER_SERVICE3;
        }
    }

    /** Agent to daemon: the data vchan {@code port} to {@code domain} is free again. */
    record ConnectionTerminated(int domain, int port) implements Message {
        public int type() {
            return MessageCodec.MSG_CONNECTION_TERMINATED;
        }
    }

    /** A chunk of a stream on a data vchan; an empty chunk ends that stream. */
    record Data(Stream stream, byte[] bytes) implements Message {
        public Data {
            Objects.requireNonNull(stream, "stream");
            bytes = bytes.clone();
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        /** @return whether this chunk marks the end of its stream */
        public boolean eof() {
            return bytes.length == 0;
        }

        public int type() {
            return switch (stream) {
                case STDIN -> MessageCodec.MSG_DATA_STDIN;
                case STDOUT -> MessageCodec.MSG_DATA_STDOUT;
                case STDERR -> MessageCodec.MSG_DATA_STDERR;
            };
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Data d && d.stream == stream && Arrays.equals(d.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return stream.hashCode() * 31 + Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Data[" + stream + ", " + bytes.length + " bytes]";
        }

        /** Which stream: stdin goes to the service, stdout and stderr come from it. */
        public enum Stream { STDIN, STDOUT, STDERR }
    }

    /** Service side to caller: the process ended with {@code code}; the last message on a data vchan. */
    record ExitCode(int code) implements Message {
        public int type() {
            return MessageCodec.MSG_DATA_EXIT_CODE;
        }
    }
}
