package compart.core.api;

import compart.errors.CompartException;
import compart.errors.Refusal;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one place where a failure becomes a Qubes exception class name, so Qubes' client ({@code qubesadmin})
 * raises the matching exception: from the {@link Refusal} the failure carries, else from its
 * {@link compart.errors.ErrorKind} and the {@link Topic} of the method. Messages are never inspected.
 */
public final class ExceptionTypes {
    private ExceptionTypes() {
    }

    /**
     * @param e     the failure
     * @param topic what the method was about
     * @return the Qubes exception class name
     */
    public static String of(CompartException e, Topic topic) {
        var refusal = e.refusal();
        if (refusal.isPresent()) {
            return switch (refusal.get()) {
                case NOT_ENOUGH_MEMORY -> "QubesMemoryError";
                case NO_TEMPLATE -> "QubesNoTemplateError";
                case NOT_RUNNING -> topic == Topic.SHUTDOWN ? "QubesVMNotStartedError" : "QubesVMNotRunningError";
                case NOT_HALTED -> "QubesVMNotHaltedError";
                case NO_SUCH_LABEL -> "QubesLabelNotFoundError";
                case NOT_DISPVM_TEMPLATE -> "QubesException";
                case NOT_IMPLEMENTED -> NOT_IMPLEMENTED;
                case MALFORMED_VALUE -> "QubesValueError";
                case INVALID_UUID -> "QubesVMInvalidUUIDError";
            };
        }
        return switch (e.kind()) {
            case NOT_FOUND -> switch (topic) {
                case PROPERTY, GLOBAL_PROPERTY -> "QubesNoSuchPropertyError";
                case FEATURE -> "QubesFeatureNotFoundError";
                case TAG -> "QubesTagNotFoundError";
                case LABEL -> "QubesLabelNotFoundError";
                case STORAGE -> "QubesException";
                default -> "QubesVMNotFoundError";
            };
            case ALREADY_EXISTS -> switch (topic) {
                case LABEL -> "QubesLabelInUseError";
                case STORAGE -> "QubesPoolInUseError";
                default -> "QubesVMAlreadyExistsError";
            };
            case INVALID_STATE -> switch (topic) {
                case PAUSE -> "QubesVMNotRunningError";
                case UNPAUSE -> "QubesVMNotPausedError";
                case PROPERTY -> "QubesVMNotHaltedError";
                case CREATE_REMOVE -> "QubesVMInUseError";
                case LABEL -> "QubesLabelInUseError";
                case STORAGE -> "QubesPoolInUseError";
                case BACKUP -> "QubesException";
                default -> "QubesVMError";
            };
            case INVALID_VALUE -> switch (topic) {
                case PROPERTY, GLOBAL_PROPERTY -> "QubesPropertyValueError";
                case BACKUP -> "QubesException";
                default -> "QubesValueError";
            };
            case PERMISSION_DENIED -> "PermissionDenied";
            case PROTOCOL -> "ProtocolError";
            case STORAGE -> "StoragePoolException";
            case TIMEOUT -> topic == Topic.SHUTDOWN ? "QubesVMShutdownTimeoutError"
                    : topic == Topic.START ? "QubesVMError" : "QubesException";
            case HYPERVISOR -> "QubesException";
        };
    }

    /**
     * A failure as a reply carries it.
     *
     * @param type       the Qubes exception class name
     * @param message    the message
     * @param unexpected the failure when it is not a {@link CompartException} (a bug: log it with its stack), else
     *                   null
     */
    record Failure(String type, String message, Throwable unexpected) {
    }

    /**
     * The one mapping from a thrown failure to a reply: a {@link CompartException}, also as the cause of a
     * {@link CompletionException}, becomes the Qubes exception of its kind and the topic; anything else an internal
     * error whose message names an incident number, never a Java class or its message (they may carry untrusted
     * bytes and internals).
     *
     * @param e     what the call threw
     * @param topic what the method was about
     * @return the failure to reply
     */
    static Failure describe(RuntimeException e, Topic topic) {
        Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (t instanceof CompartException ce) {
            return new Failure(of(ce, topic), ce.getMessage(), null);
        }
        return new Failure(INTERNAL, "compartd failed unexpectedly while serving this call (incident "
                + INCIDENTS.incrementAndGet() + " in its log); please report it", t);
    }

    /** Numbers the unexpected failures, so a reply names the log entry with the details (never the details). */
    private static final AtomicLong INCIDENTS = new AtomicLong();

    /** The class name for a method Qubes has but Compart does not implement. */
    public static final String NOT_IMPLEMENTED = "QubesNotImplementedError";
    /** The class name for an unexpected internal failure. */
    public static final String INTERNAL = "QubesException";
}
