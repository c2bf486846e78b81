package compart.cli.client;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * One answer of the Admin API: the call's payload, or the exception the daemon reported. A failure is an expected
 * outcome here (commands look at its {@link Failure#type()} to decide, as Qubes' tools do), so it is a value;
 * {@link #orThrow()} turns it into the one exception type when the caller has nothing better to do.
 */
public sealed interface Reply {

    /**
     * @return the payload of a successful call
     * @throws CompartException of the kind {@link Failure#kind()} maps from the daemon's exception type
     */
    byte[] orThrow();

    /** @return the payload as UTF-8 text, or throws like {@link #orThrow()} */
    default String text() {
        return new String(orThrow(), StandardCharsets.UTF_8);
    }

    /**
     * The call succeeded ({@code 0\0} then the payload).
     *
     * @param payload what the method returned; may be empty
     */
    record Ok(byte[] payload) implements Reply {
        @Override
        public byte[] orThrow() {
            return payload;
        }
    }

    /**
     * The daemon raised an exception ({@code 2\0TYPE\0TRACEBACK\0MESSAGE\0ARGS...}).
     *
     * @param type      the Qubes exception class name, like {@code QubesVMNotFoundError}
     * @param message   the message with its arguments applied, ready for the user
     * @param traceback the daemon's traceback when it runs with debugging, else empty
     */
    record Failure(String type, String message, String traceback) implements Reply {

        /** How Qubes' exception names map to our error kinds: the one place the client decides this. */
        private static final Map<String, ErrorKind> KINDS = Map.ofEntries(
                Map.entry("QubesVMNotFoundError", ErrorKind.NOT_FOUND),
                Map.entry("QubesNoSuchPropertyError", ErrorKind.NOT_FOUND),
                Map.entry("QubesFeatureNotFoundError", ErrorKind.NOT_FOUND),
                Map.entry("QubesTagNotFoundError", ErrorKind.NOT_FOUND),
                Map.entry("QubesLabelNotFoundError", ErrorKind.NOT_FOUND),
                Map.entry("QubesPoolNotFoundError", ErrorKind.NOT_FOUND),
                Map.entry("QubesVolumeNotFoundError", ErrorKind.NOT_FOUND),
                Map.entry("QubesVolumeRevisionNotFoundError", ErrorKind.NOT_FOUND),
                Map.entry("QubesVMAlreadyExistsError", ErrorKind.ALREADY_EXISTS),
                Map.entry("QubesLabelInUseError", ErrorKind.ALREADY_EXISTS),
                Map.entry("QubesPoolInUseError", ErrorKind.INVALID_STATE),
                Map.entry("QubesVMInUseError", ErrorKind.INVALID_STATE),
                Map.entry("QubesVMShutdownTimeoutError", ErrorKind.TIMEOUT),
                Map.entry("QubesValueError", ErrorKind.INVALID_VALUE),
                Map.entry("QubesPropertyValueError", ErrorKind.INVALID_VALUE),
                Map.entry("QubesVMInvalidUUIDError", ErrorKind.INVALID_VALUE),
                Map.entry("QubesMemoryError", ErrorKind.HYPERVISOR),
                Map.entry("StoragePoolException", ErrorKind.STORAGE),
                Map.entry("PermissionDenied", ErrorKind.PERMISSION_DENIED),
                Map.entry("ProtocolError", ErrorKind.PROTOCOL));

        /** @return the error kind for {@link #type()}; unknown Qubes VM-state errors are INVALID_STATE */
        public ErrorKind kind() {
            ErrorKind known = KINDS.get(type);
            if (known != null) {
                return known;
            }
            if (type.endsWith("NotFoundError")) {
                return ErrorKind.NOT_FOUND;
            }
            if (type.startsWith("QubesVolume") || type.startsWith("QubesPool") || type.startsWith("Storage")) {
                return ErrorKind.STORAGE;
            }
            return ErrorKind.INVALID_STATE;
        }

        /** @return whether the daemon raised {@code type} itself (Qubes' subclasses are not followed) */
        public boolean is(String qubesType) {
            return type.equals(qubesType);
        }

        @Override
        public byte[] orThrow() {
            throw new CompartException(kind(), message.isBlank() ? type : message);
        }
    }
}
