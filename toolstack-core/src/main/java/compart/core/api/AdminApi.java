package compart.core.api;

import compart.core.model.Inventory;
import compart.core.ops.BackupOps;
import compart.core.ops.PoolOps;
import compart.core.ops.QrexecCommands;
import compart.core.ops.QubeOps;
import compart.core.ops.SystemInfoOps;
import compart.core.ops.Toolstack;
import compart.core.ops.VolumeOps;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.policy.Policy;
import compart.policy.SystemInfo;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Admin API, with Qubes' value formats: one {@link #handle} per request, returning the reply frame. Builds the
 * {@link MethodTable} from the topic classes ({@link VmLifecycleMethods}, {@link PropertyMethods},
 * {@link FeatureTagLabelMethods}, {@link VolumeMethods}, {@link PoolMethods}, {@link SystemMethods}) and hands
 * each request to the {@link Dispatcher}, which checks it, lets the {@link PolicyGate} decide a call from a qube
 * other than dom0, and maps every failure to a Qubes exception through {@link ExceptionTypes}.
 * {@code admin.vm.List} from a qube lists only the qubes the policy lets it list.
 *
 * <p>Thread safe; handlers block on lifecycle operations (callers run them off the accept loop).
 */
public final class AdminApi {
    private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);

    /** The internal socket's method the qrexec policy daemon calls for the state of every qube. */
    public static final String SYSTEM_INFO = "internal.GetSystemInfo";
    private static final Set<String> STREAMED = Set.of("admin.vm.volume.Import", "admin.vm.volume.ImportWithSize");

    private final MethodTable methods = new MethodTable();
    /** The methods of the internal socket ({@link #handleInternal}). */
    private final MethodTable internalMethods = new MethodTable();
    /** The methods whose payload is streamed ({@link #handleStream}). */
    private final MethodTable streamMethods = new MethodTable();
    private final SystemInfoOps system;
    private final Dispatcher dispatcher;
    private final QrexecRun run;

    /**
     * An API that refuses every request from a qube other than dom0 (no policy).
     *
     * @param toolstack the toolstack the methods act on
     */
    public AdminApi(Toolstack toolstack) {
        this(toolstack, () -> null);
    }

    /**
     * @param toolstack the toolstack the methods act on
     * @param policy    the current qrexec policy (e.g. {@code LivePolicy::current}); null from it denies all
     *                  requests from qubes
     */
    public AdminApi(Toolstack toolstack, Supplier<Policy> policy) {
        Supplier<Inventory> inventory = toolstack::inventory;
        this.system = new SystemInfoOps(toolstack);
        var gate = new PolicyGate(policy, system);
        var qubes = new QubeOps(toolstack);
        this.dispatcher = new Dispatcher(inventory, gate);
        var volumes = new VolumeOps(toolstack);
        this.run = new QrexecRun(inventory, new QrexecCommands(toolstack));
        methods.register(new VmLifecycleMethods(toolstack, qubes, gate))
                .register(new PropertyMethods(toolstack))
                .register(new FeatureTagLabelMethods(toolstack))
                .register(new VolumeMethods(volumes))
                .register(new PoolMethods(new PoolOps(toolstack)))
                .register(new SystemMethods(toolstack, qubes))
                .register(new BackupMethods(BackupOps.standard(toolstack, volumes)));
        internalMethods.register(new InternalMethods(system));
        streamMethods.register(new VolumeImportMethods(volumes));
    }

    /** @return the names of the methods implemented, sorted */
    public List<String> methodNames() {
        return List.copyOf(methods.all().keySet());
    }

    /** @return the methods by name (for the tests of the table) */
    MethodTable methods() {
        return methods;
    }

    /**
     * Handles one request; never throws.
     *
     * @param request the parsed request
     * @return the reply frame
     */
    public byte[] handle(AdminRequest request) {
        return dispatcher.dispatch(request, methods, false);
    }

    /**
     * Handles one request of the internal socket (Qubes' {@code qubesd.internal.sock}, for dom0 components such as
     * the qrexec policy daemon): only {@link #SYSTEM_INFO}, only from dom0 (anything else is refused with
     * PermissionDenied), with the same argument, payload and destination checks as {@link #handle}. Never throws.
     *
     * @param request the parsed request
     * @return the reply frame
     */
    public byte[] handleInternal(AdminRequest request) {
        if (!request.source().equals("dom0")) {
            LOG.warn("{} on the internal socket: refused, only dom0 may call it", request);
            return AdminReply.exception(ExceptionTypes.of(new CompartException(ErrorKind.PERMISSION_DENIED,
                    "internal socket: only dom0 may call it"), Topic.GENERAL), "Request refused");
        }
        return dispatcher.dispatch(request, internalMethods, true);
    }

    /** @return what the qrexec policy needs to know about each qube now (for the qrexec router) */
    public SystemInfo systemInfo() {
        return system.systemInfo();
    }

    /**
     * The answer of {@code internal.GetSystemInfo} (see {@link SystemInfoOps#systemInfoJson}).
     *
     * @return the JSON text
     */
    public String systemInfoJson() {
        return system.systemInfoJson();
    }

    /**
     * Serves {@link QrexecRun#METHOD} (dom0's {@code qvm-run}); never throws.
     *
     * @param request the header (empty payload)
     * @param in      the client's frames
     * @param out     the daemon's frames
     */
    public void serveRun(AdminRequest request, InputStream in, OutputStream out) {
        run.serve(request, in, out);
    }

    /** @return whether the method's payload is streamed ({@link #handleStream}) instead of read whole */
    public static boolean streamsPayload(String method) {
        return STREAMED.contains(method);
    }

    /**
     * Handles a volume import whose data is streamed: {@code admin.vm.volume.Import} (exactly the volume's size
     * in bytes) or {@code admin.vm.volume.ImportWithSize} (a decimal size and a newline, then exactly that many
     * bytes; the volume takes that size). The qube must be halted; the import is all or nothing. Never throws.
     *
     * @param request the request, its payload empty
     * @param data    the payload, read as the volume takes it
     * @return the reply frame
     */
    public byte[] handleStream(AdminRequest request, InputStream data) {
        return dispatcher.call(request, streamMethods.get(request.method()), Topic.STORAGE, data);
    }
}
