package compart.core.api;

import compart.core.model.Inventory;
import compart.core.model.Names;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.errors.Refusal;
import java.io.InputStream;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one Admin API call: looks the method up, resolves the destination qube (QubesVMNotFoundError), lets the
 * {@link PolicyGate} decide a call from a qube, checks the method's {@link Arg}, {@link Payload} and {@link Dest}
 * rules as qubesd does (ProtocolError), calls the handler and replies every failure through {@link #failure}.
 *
 * <p>Thread safe; never throws.
 */
final class Dispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);

    /** Methods Qubes has that Compart does not implement yet: answered with QubesNotImplementedError. */
    static final Set<String> NOT_IMPLEMENTED = Set.of("admin.vm.Console", "admin.vm.Suspend", "admin.vm.Resume",
            "admin.vm.Stats", "admin.pool.Set.ephemeral_volatile", "admin.backup.Execute",
            "admin.backup.Cancel", "admin.backup.Info", "admin.vm.device.denied.Add",
            "admin.vm.device.denied.Remove");

    private final Supplier<Inventory> inventory;
    private final PolicyGate gate;

    /**
     * @param inventory the current inventory (an immutable snapshot per call)
     * @param gate      decides calls from qubes
     */
    Dispatcher(Supplier<Inventory> inventory, PolicyGate gate) {
        this.inventory = inventory;
        this.gate = gate;
    }

    /**
     * @param request  the request
     * @param table    the methods of the socket
     * @param internal whether it is the internal socket (no QubesNotImplementedError there)
     * @return the reply frame
     */
    byte[] dispatch(AdminRequest request, MethodTable table, boolean internal) {
        var method = table.get(request.method());
        if (method != null) {
            return call(request, method, Topic.GENERAL, null);
        }
        if (!internal && (NOT_IMPLEMENTED.contains(request.method())
                || request.method().startsWith("admin.vm.device."))) {
            return AdminReply.exception(ExceptionTypes.NOT_IMPLEMENTED, "This feature is not available in "
                    + "Compart yet: " + request.method());
        }
        return failure(request, Topic.GENERAL, new CompartException(ErrorKind.PROTOCOL, "no such method: '"
                + AdminText.printable(request.method()) + "'"));
    }

    /**
     * Calls one method.
     *
     * @param before the topic of a failure until the destination is resolved and authorised (GENERAL: an unknown
     *               qube is QubesVMNotFoundError)
     * @param data   the streamed payload, null when it was read whole
     * @return the reply frame
     */
    byte[] call(AdminRequest request, AdminMethod method, Topic before, InputStream data) {
        Topic topic = before;
        try {
            var inv = inventory.get();
            var dest = resolve(inv, request.dest());
            if (!request.source().equals("dom0")) {
                gate.authorize(inv, request, dest);
            }
            topic = method.topic();
            check(method, request, dest);
            return AdminReply.ok(method.handler().handle(new Call(request, dest, inv, data)));
        } catch (RuntimeException e) {
            return failure(request, topic, e);
        }
    }

    private static void check(AdminMethod method, AdminRequest request, Qube dest) {
        boolean hasArg = !request.arg().isEmpty();
        if (method.arg() == Arg.REQUIRED && !hasArg) {
            throw new CompartException(ErrorKind.PROTOCOL, "expected an argument");
        }
        if (method.arg() == Arg.NONE && hasArg) {
            throw new CompartException(ErrorKind.PROTOCOL, "unexpected argument");
        }
        boolean hasPayload = request.untrustedPayload().length != 0;
        if (method.payload() == Payload.REQUIRED && !hasPayload) {
            throw new CompartException(ErrorKind.PROTOCOL, "expected payload");
        }
        if (method.payload() == Payload.NONE && hasPayload) {
            throw new CompartException(ErrorKind.PROTOCOL, "unexpected payload");
        }
        boolean isAdmin = dest.klass() == QubeClass.AdminVM;
        if (method.dest() == Dest.ADMIN && !isAdmin) {
            throw new CompartException(ErrorKind.PROTOCOL, "expected destination to be AdminVM");
        }
        if (method.dest() == Dest.NOT_ADMIN && isAdmin) {
            throw new CompartException(ErrorKind.PROTOCOL, "expected destination to not be AdminVM");
        }
    }

    /**
     * Replies a failure ({@link ExceptionTypes#describe}): a {@link CompartException} as the Qubes exception of its
     * kind and the method's topic, anything else as an internal error, logged with its stack.
     *
     * @return the reply frame
     */
    static byte[] failure(AdminRequest request, Topic topic, RuntimeException e) {
        var f = ExceptionTypes.describe(e, topic);
        if (f.unexpected() == null) {
            LOG.debug("{} failed: {}", request, f.message());
        } else {
            LOG.error("{} failed unexpectedly", request, f.unexpected());
        }
        return AdminReply.exception(f.type(), f.message());
    }

    private static final Pattern UUID_DEST =
            Pattern.compile("uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    /** @return the destination qube: a name, {@code dom0} or {@code uuid:UUID} */
    static Qube resolve(Inventory inv, String untrustedDest) {
        if (untrustedDest.startsWith("uuid:")) {
            // Qubes' form exactly: UUID.fromString alone also takes short groups.
            if (!UUID_DEST.matcher(untrustedDest).matches()) {
                throw Refusal.INVALID_UUID.exception("VM UUID is not valid: '%s'",
                        AdminText.printable(untrustedDest.substring(5)));
            }
            var uuid = UUID.fromString(untrustedDest.substring(5));
            return inv.byUuid(uuid).orElseThrow(() -> CompartException.notFound("No such domain: '%s'",
                    untrustedDest));
        }
        if (untrustedDest.equals("dom0")) {
            return inv.qube("dom0");
        }
        Names.qube(untrustedDest);
        return inv.qube(untrustedDest);
    }
}
