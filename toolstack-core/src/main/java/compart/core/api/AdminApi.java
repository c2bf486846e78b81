package compart.core.api;

import compart.core.model.Inventory;
import compart.core.model.Label;
import compart.core.model.Names;
import compart.core.model.PoolDefinition;
import compart.core.model.PropertyValue;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import compart.core.model.VolumeDefinition;
import compart.core.ops.PowerState;
import compart.core.ops.Toolstack;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Admin API methods, with Qubes' value formats: one {@link #handle} per request, returning the reply frame.
 * Checks the argument and payload like qubesd (a method that takes none refuses one with ProtocolError), resolves
 * the destination qube (QubesVMNotFoundError), and maps every failure to a Qubes exception through
 * {@link ExceptionTypes}. A request from a qube other than dom0 is decided by the qrexec policy as Qubes does
 * for {@code admin.*} services: service = method, argument = {@code +arg}, target = the destination qube (or
 * {@code @adminvm}), and only an {@code allow} that runs the call in dom0 lets it through (Qubes' rules say
 * {@code allow target=dom0}; for destination dom0 a plain {@code allow}); {@code deny}, {@code ask} (no one to
 * ask), an allow to another qube and no policy at all are refused with PermissionDenied; each decision writes one
 * audit line. {@code admin.vm.List} from a qube lists only
 * the qubes the policy lets it list.
 *
 * <p>Thread safe; handlers block on lifecycle operations (callers run them off the accept loop).
 */
public final class AdminApi {
    private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);

    /** Methods Qubes has that Compart does not implement yet: answered with QubesNotImplementedError. */
    static final Set<String> NOT_IMPLEMENTED = Set.of("admin.vm.Console", "admin.vm.Suspend", "admin.vm.Resume",
            "admin.vm.Stats", "admin.pool.Set.ephemeral_volatile", "admin.backup.Execute",
            "admin.backup.Cancel", "admin.backup.Info", "admin.vm.device.denied.Add",
            "admin.vm.device.denied.Remove");
    private static final List<String> DEVICE_CLASSES = List.of("block", "mic", "pci", "usb");
    private static final Map<String, String> POOL_DRIVERS = new TreeMap<>(Map.of(
            "file", "dir_path revisions_to_keep ephemeral_volatile",
            "file-reflink", "dir_path revisions_to_keep ephemeral_volatile setup_check",
            "lvm_thin", "volume_group thin_pool revisions_to_keep ephemeral_volatile",
            "linux-kernel", "dir_path"));

    private final Toolstack toolstack;
    private final QrexecRun run;
    private final java.util.function.Supplier<compart.policy.Policy> policy;
    private final Map<String, Method> methods = new HashMap<>();
    /** The methods of the internal socket ({@link #handleInternal}). */
    private final Map<String, Method> internalMethods = new HashMap<>();

    /** The internal socket's method the qrexec policy daemon calls for the state of every qube. */
    public static final String SYSTEM_INFO = "internal.GetSystemInfo";
    /** CloneFrom tokens: single use, each names a source qube and volume. */
    private final Map<String, CloneSource> pendingClones = new java.util.concurrent.ConcurrentHashMap<>();

    private record CloneSource(String qube, String volume) {
    }
    private final SecureRandom random = new SecureRandom();

    /** Destination rules, as qubesd's {@code dest_adminvm}. */
    enum Dest { ADMIN, NOT_ADMIN, ANY }

    /** What a handler sees. */
    record Call(AdminRequest request, Qube dest, Inventory inv) {
        String arg() {
            return request.arg();
        }

        String payloadAscii() {
            try {
                return StandardCharsets.US_ASCII.newDecoder().decode(java.nio.ByteBuffer.wrap(
                        request.untrustedPayload())).toString();
            } catch (CharacterCodingException e) {
                throw CompartException.invalidValue("Non-ASCII bytes in the payload of %s", request.method());
            }
        }
    }

    /**
     * @param wantsArg     true: must have an arg; false: must not; null: either
     * @param wantsPayload likewise for the payload
     */
    record Method(Boolean wantsArg, Boolean wantsPayload, Dest dest, Topic topic, Function<Call, String> handler) {
    }

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
    public AdminApi(Toolstack toolstack, java.util.function.Supplier<compart.policy.Policy> policy) {
        this.toolstack = toolstack;
        this.policy = policy;
        this.run = new QrexecRun(toolstack);
        register();
    }

    /** @return the names of the methods implemented, sorted */
    public List<String> methodNames() {
        return methods.keySet().stream().sorted().toList();
    }

    /**
     * Handles one request; never throws.
     *
     * @param request the parsed request
     * @return the reply frame
     */
    public byte[] handle(AdminRequest request) {
        return dispatch(request, methods, false);
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
        return dispatch(request, internalMethods, true);
    }

    private byte[] dispatch(AdminRequest request, Map<String, Method> table, boolean internal) {
        var method = table.get(request.method());
        Topic topic = Topic.GENERAL; // until the destination is resolved: an unknown qube is QubesVMNotFoundError
        try {
            if (method == null) {
                if (!internal && (NOT_IMPLEMENTED.contains(request.method())
                        || request.method().startsWith("admin.vm.device."))) {
                    return AdminReply.exception(ExceptionTypes.NOT_IMPLEMENTED, "This feature is not available in "
                            + "Compart yet: " + request.method());
                }
                throw new CompartException(ErrorKind.PROTOCOL, "no such method: '"
                        + QubeClassNames.printable(request.method()) + "'");
            }
            var inv = toolstack.inventory();
            var dest = resolve(inv, request.dest());
            if (!request.source().equals("dom0")) {
                authorize(inv, request, dest);
            }
            topic = method.topic();
            if (Boolean.TRUE.equals(method.wantsArg()) && request.arg().isEmpty()) {
                throw new CompartException(ErrorKind.PROTOCOL, "expected an argument");
            }
            if (Boolean.FALSE.equals(method.wantsArg()) && !request.arg().isEmpty()) {
                throw new CompartException(ErrorKind.PROTOCOL, "unexpected argument");
            }
            if (Boolean.TRUE.equals(method.wantsPayload()) && request.untrustedPayload().length == 0) {
                throw new CompartException(ErrorKind.PROTOCOL, "expected payload");
            }
            if (Boolean.FALSE.equals(method.wantsPayload()) && request.untrustedPayload().length != 0) {
                throw new CompartException(ErrorKind.PROTOCOL, "unexpected payload");
            }
            boolean isAdmin = dest.klass() == QubeClass.AdminVM;
            if (method.dest() == Dest.ADMIN && !isAdmin) {
                throw new CompartException(ErrorKind.PROTOCOL, "expected destination to be AdminVM");
            }
            if (method.dest() == Dest.NOT_ADMIN && isAdmin) {
                throw new CompartException(ErrorKind.PROTOCOL, "expected destination to not be AdminVM");
            }
            String out = method.handler().apply(new Call(request, dest, inv));
            return AdminReply.ok(out);
        } catch (CompartException e) {
            LOG.debug("{} failed: {}", request, e.getMessage());
            return AdminReply.exception(ExceptionTypes.of(e, topic), e.getMessage());
        } catch (CompletionException e) {
            if (e.getCause() instanceof CompartException ce) {
                LOG.debug("{} failed: {}", request, ce.getMessage());
                return AdminReply.exception(ExceptionTypes.of(ce, topic), ce.getMessage());
            }
            LOG.error("{} failed unexpectedly", request, e.getCause());
            return AdminReply.exception(ExceptionTypes.INTERNAL, "internal error in compartd: " + e.getCause());
        } catch (RuntimeException e) {
            LOG.error("{} failed unexpectedly", request, e);
            return AdminReply.exception(ExceptionTypes.INTERNAL, "internal error in compartd: " + e);
        }
    }

    /** Decides a request from a qube with the policy; returns only when it is allowed. */
    private void authorize(Inventory inv, AdminRequest request, Qube dest) {
        if (inv.find(request.source()).isEmpty() || request.source().equals("dom0")) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "request from an unknown qube refused");
        }
        var p = policy.get();
        var target = dest.klass() == QubeClass.AdminVM ? "@adminvm" : dest.name();
        var call = new compart.policy.Request(request.method(), "+" + request.arg(), request.source(), target);
        if (p == null) {
            LOG.info("{}: denied: no qrexec policy is loaded (compartd --policy-dir)", request);
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Request refused");
        }
        var r = p.decide(call, systemInfo(inv), false);
        if (!runsInDom0(r)) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Request refused");
        }
    }

    /** @return whether the resolution allows the call to run in dom0 (where compartd is) */
    private static boolean runsInDom0(compart.policy.Resolution r) {
        return r instanceof compart.policy.Resolution.Allow a && (a.target().equals("dom0")
                || a.target().equals("@adminvm") || a.target().equals("uuid:" + compart.policy.SystemInfo.DOM0_UUID));
    }

    /** @return what the qrexec policy needs to know about each qube now (for the qrexec router) */
    public compart.policy.SystemInfo systemInfo() {
        return systemInfo(toolstack.inventory());
    }

    /**
     * The answer of {@code internal.GetSystemInfo}, in Qubes' shape: {@code {"domains": {NAME: {"internal",
     * "tags", "type", "template_for_dispvms", "default_dispvm", "icon", "label", "guivm", "relayvm",
     * "transport_rpc", "power_state", "uuid"}}}}. As qubesd: {@code internal} is the value of the feature of that
     * name (null when unset), {@code icon} and {@code label} are the label's icon ({@code appvm-NAME}) and colour,
     * {@code guivm}, {@code relayvm}, {@code transport_rpc} and {@code default_dispvm} are null where the class
     * has no such property or it is empty, dom0's uuid is all zeros.
     *
     * @return the JSON text
     */
    public String systemInfoJson() {
        var inv = toolstack.inventory();
        var domains = new java.util.LinkedHashMap<String, Object>();
        var ordered = new ArrayList<>(inv.qubes().values());
        ordered.sort(Comparator.comparingInt(Qube::qid));
        for (var q : ordered) {
            boolean admin = q.klass() == QubeClass.AdminVM;
            var e = new java.util.LinkedHashMap<String, Object>();
            e.put("internal", q.features().get("internal"));
            e.put("tags", List.copyOf(q.tags()));
            e.put("type", q.klass().name());
            e.put("template_for_dispvms", inv.hasProperty(q, "template_for_dispvms")
                    && inv.boolValue(q, "template_for_dispvms"));
            e.put("default_dispvm", vmOrNull(inv, q, "default_dispvm"));
            Label label = inv.label(inv.value(q, "label").orElse("black"));
            e.put("icon", "appvm-" + label.name());
            e.put("label", label.color());
            e.put("guivm", vmOrNull(inv, q, "guivm"));
            e.put("relayvm", vmOrNull(inv, q, "relayvm"));
            e.put("transport_rpc", inv.hasProperty(q, "transport_rpc")
                    ? inv.value(q, "transport_rpc").filter(x -> !x.isEmpty()).orElse(null) : null);
            e.put("power_state", admin ? PowerState.Running.name() : toolstack.powerState(q.name()).name());
            e.put("uuid", admin ? compart.policy.SystemInfo.DOM0_UUID : q.uuid().toString());
            domains.put(q.name(), e);
        }
        try {
            return JSON.writeValueAsString(Map.of("domains", domains));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new java.io.UncheckedIOException("cannot write the system info", e);
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private static String vmOrNull(Inventory inv, Qube q, String property) {
        return inv.hasProperty(q, property) ? inv.value(q, property).filter(x -> !x.isEmpty()).orElse(null) : null;
    }

    /** @return what the policy needs to know about each qube */
    private compart.policy.SystemInfo systemInfo(Inventory inv) {
        var qubes = new ArrayList<compart.policy.QubeInfo>(inv.qubes().size());
        for (var q : inv.qubes().values()) {
            boolean admin = q.klass() == QubeClass.AdminVM;
            qubes.add(new compart.policy.QubeInfo(q.name(), q.klass().name(), q.tags(),
                    !admin && inv.hasProperty(q, "template_for_dispvms") && inv.boolValue(q, "template_for_dispvms"),
                    inv.value(q, "default_dispvm").filter(x -> !x.isEmpty()).orElse(null),
                    toolstack.powerState(q.name()).name(),
                    admin ? compart.policy.SystemInfo.DOM0_UUID : q.uuid().toString(),
                    q.features().containsKey("internal") && !q.features().get("internal").isEmpty(),
                    null, null, null));
        }
        return compart.policy.SystemInfo.of(qubes);
    }

    /**
     * Serves {@link QrexecRun#METHOD} (dom0's {@code qvm-run}); never throws.
     *
     * @param request the header (empty payload)
     * @param in      the client's frames
     * @param out     the daemon's frames
     */
    public void serveRun(AdminRequest request, java.io.InputStream in, java.io.OutputStream out) {
        run.serve(request, in, out);
    }

    /** @return whether the method's payload is streamed ({@link #handleStream}) instead of read whole */
    public static boolean streamsPayload(String method) {
        return method.equals("admin.vm.volume.Import") || method.equals("admin.vm.volume.ImportWithSize");
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
    public byte[] handleStream(AdminRequest request, java.io.InputStream data) {
        try {
            var inv = toolstack.inventory();
            var dest = resolve(inv, request.dest());
            if (!request.source().equals("dom0")) {
                authorize(inv, request, dest);
            }
            if (dest.klass() == QubeClass.AdminVM) {
                throw new CompartException(ErrorKind.PROTOCOL, "expected destination to not be AdminVM");
            }
            var call = new Call(request, dest, inv);
            var v = managedVolume(call);
            if (!v.saveOnStop()) {
                throw CompartException.invalidValue("volume %s:%s is not persistent (save_on_stop=False): its data "
                        + "is made at each start, there is nothing to import into", dest.name(), v.name());
            }
            long size = request.method().equals("admin.vm.volume.ImportWithSize") ? parseSize(readLine(data))
                    : v.size();
            await(toolstack.volumeOp(dest.name(), "Cannot import into a volume of a running qube", true, () -> {
                var i = toolstack.inventory();
                toolstack.storage().volume(i, i.qube(dest.name()), v.name()).importData(data, size);
                if (size != v.size()) {
                    toolstack.change(x -> x.withQube(x.qube(dest.name()).withVolume(resized(
                            x.qube(dest.name()).volumes().get(v.name()), size))));
                }
                return null;
            }));
            return AdminReply.ok(null);
        } catch (CompartException e) {
            return AdminReply.exception(ExceptionTypes.of(e, Topic.STORAGE), e.getMessage());
        } catch (CompletionException e) {
            if (e.getCause() instanceof CompartException ce) {
                return AdminReply.exception(ExceptionTypes.of(ce, Topic.STORAGE), ce.getMessage());
            }
            LOG.error("{} failed unexpectedly", request, e.getCause());
            return AdminReply.exception(ExceptionTypes.INTERNAL, "internal error in compartd: " + e.getCause());
        } catch (RuntimeException e) {
            LOG.error("{} failed unexpectedly", request, e);
            return AdminReply.exception(ExceptionTypes.INTERNAL, "internal error in compartd: " + e);
        }
    }

    private static String readLine(java.io.InputStream in) {
        var b = new StringBuilder();
        try {
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0 || b.length() > 20) {
                    throw CompartException.invalidValue("ImportWithSize: the payload must start with the size and "
                            + "a newline");
                }
                b.append((char) c);
            }
        } catch (java.io.IOException e) {
            throw new CompartException(ErrorKind.PROTOCOL, "reading the import size: " + e.getMessage(), e);
        }
        return b.toString();
    }

    private static Qube resolve(Inventory inv, String untrustedDest) {
        if (untrustedDest.startsWith("uuid:")) {
            try {
                var uuid = UUID.fromString(untrustedDest.substring(5));
                return inv.byUuid(uuid).orElseThrow(() -> CompartException.notFound("No such domain: '%s'",
                        untrustedDest.substring(5)));
            } catch (IllegalArgumentException e) {
                throw CompartException.invalidValue("VM UUID is not valid: '%s'",
                        QubeClassNames.printable(untrustedDest.substring(5)));
            }
        }
        if (untrustedDest.equals("dom0")) {
            return inv.qube("dom0");
        }
        Names.qube(untrustedDest);
        return inv.qube(untrustedDest);
    }

    private void add(String name, Boolean arg, Boolean payload, Dest dest, Topic topic, Function<Call, String> h) {
        methods.put(name, new Method(arg, payload, dest, topic, h));
    }

    private static String lines(java.util.stream.Stream<String> s) {
        return s.map(x -> x + "\n").collect(Collectors.joining());
    }

    private static <T> T await(CompletableFuture<T> f) {
        return f.join();
    }

    private void register() {
        internalMethods.put(SYSTEM_INFO, new Method(false, false, Dest.ADMIN, Topic.GENERAL, c -> systemInfoJson()));
        add("admin.vmclass.List", false, false, Dest.ADMIN, Topic.GENERAL,
                c -> lines(java.util.Arrays.stream(QubeClass.values()).map(Enum::name).sorted()));
        add("admin.vm.List", false, false, Dest.ANY, Topic.GENERAL, this::vmList);
        // the checks of admin.Events (the server streams the events after this answers)
        add("admin.Events", false, false, Dest.ANY, Topic.GENERAL, c -> "");
        add("admin.vm.CurrentState", false, false, Dest.ANY, Topic.GENERAL, this::currentState);

        // properties
        add("admin.vm.property.List", false, false, Dest.ANY, Topic.PROPERTY,
                c -> lines(c.inv().propertyDefs(c.dest()).keySet().stream().sorted()));
        add("admin.vm.property.Get", true, false, Dest.ANY, Topic.PROPERTY,
                c -> serialize(property(c, c.arg())));
        add("admin.vm.property.GetAll", false, false, Dest.ANY, Topic.PROPERTY, c -> lines(
                c.inv().propertyDefs(c.dest()).keySet().stream().sorted().map(p -> p + " "
                        + escape(serialize(property(c, p))))));
        add("admin.vm.property.GetDefault", true, false, Dest.ANY, Topic.PROPERTY, c -> {
            var def = c.inv().propertyDefs(c.dest()).get(c.arg());
            if (def == null) {
                throw CompartException.notFound("Invalid property '%s' of %s", QubeClassNames.printable(c.arg()),
                        c.dest().name());
            }
            var v = c.inv().defaultValue(c.dest(), c.arg());
            return v.map(x -> "type=" + def.type().wireName() + " " + x).orElse(null);
        });
        add("admin.vm.property.Set", true, null, Dest.ANY, Topic.PROPERTY, this::propertySet);
        add("admin.vm.property.Reset", true, false, Dest.ANY, Topic.PROPERTY, c -> {
            toolstack.change(inv -> inv.withPropertyReset(c.dest().name(), c.arg()));
            toolstack.events().publish(new compart.core.ops.QubeEvent(c.dest().name(), "property-reset:" + c.arg(),
                    Map.of("name", c.arg())));
            return null;
        });
        add("admin.vm.property.Help", true, false, Dest.ANY, Topic.PROPERTY, c -> {
            var def = c.inv().propertyDefs(c.dest()).get(c.arg());
            if (def == null) {
                throw CompartException.notFound("Invalid property '%s' of %s", QubeClassNames.printable(c.arg()),
                        c.dest().name());
            }
            return def.help();
        });
        add("admin.property.List", false, false, Dest.ADMIN, Topic.GLOBAL_PROPERTY,
                c -> lines(compart.core.model.PropertyCatalog.global().keySet().stream().sorted()));
        add("admin.property.Get", true, false, Dest.ADMIN, Topic.GLOBAL_PROPERTY,
                c -> serialize(c.inv().globalProperty(c.arg())));
        add("admin.property.GetAll", false, false, Dest.ADMIN, Topic.GLOBAL_PROPERTY, c -> lines(
                compart.core.model.PropertyCatalog.global().keySet().stream().sorted()
                        .map(p -> p + " " + escape(serialize(c.inv().globalProperty(p))))));
        add("admin.property.GetDefault", true, false, Dest.ADMIN, Topic.GLOBAL_PROPERTY, c -> {
            var pv = c.inv().globalProperty(c.arg());
            return c.inv().globalDefaultValue(c.arg()).map(x -> "type=" + pv.type().wireName() + " " + x)
                    .orElse(null);
        });
        add("admin.property.Set", true, null, Dest.ADMIN, Topic.GLOBAL_PROPERTY, c -> {
            String value = c.payloadAscii();
            toolstack.change(inv -> inv.withGlobalProperty(c.arg(), value));
            toolstack.events().publish(new compart.core.ops.QubeEvent("", "property-set:" + c.arg(),
                    Map.of("name", c.arg(), "newvalue", value)));
            return null;
        });
        add("admin.property.Reset", true, false, Dest.ADMIN, Topic.GLOBAL_PROPERTY, c -> {
            toolstack.change(inv -> inv.withGlobalPropertyReset(c.arg()));
            return null;
        });
        add("admin.property.Help", true, false, Dest.ADMIN, Topic.GLOBAL_PROPERTY, c -> {
            var def = compart.core.model.PropertyCatalog.global().get(c.arg());
            if (def == null) {
                throw CompartException.notFound("Invalid property '%s' of Qubes", QubeClassNames.printable(c.arg()));
            }
            return def.help();
        });

        // features
        add("admin.vm.feature.List", false, false, Dest.ANY, Topic.FEATURE,
                c -> lines(c.dest().features().keySet().stream()));
        add("admin.vm.feature.Get", true, false, Dest.ANY, Topic.FEATURE, c -> feature(c,
                Optional.ofNullable(c.dest().features().get(c.arg()))));
        add("admin.vm.feature.CheckWithTemplate", true, false, Dest.ANY, Topic.FEATURE,
                c -> feature(c, c.inv().checkFeature(c.dest(), c.arg(), true, false, false)));
        add("admin.vm.feature.CheckWithNetvm", true, false, Dest.ANY, Topic.FEATURE,
                c -> feature(c, c.inv().checkFeature(c.dest(), c.arg(), false, true, false)));
        add("admin.vm.feature.CheckWithAdminVM", true, false, Dest.ANY, Topic.FEATURE,
                c -> feature(c, c.inv().checkFeature(c.dest(), c.arg(), false, false, true)));
        add("admin.vm.feature.CheckWithTemplateAndAdminVM", true, false, Dest.ANY, Topic.FEATURE,
                c -> feature(c, c.inv().checkFeature(c.dest(), c.arg(), true, false, true)));
        add("admin.vm.feature.Set", true, null, Dest.ANY, Topic.FEATURE, c -> {
            String value = c.payloadAscii();
            if (!c.arg().matches("[a-zA-Z0-9_.-]+")) {
                throw new CompartException(ErrorKind.PROTOCOL, "feature name contains illegal characters");
            }
            toolstack.change(inv -> inv.withFeature(c.dest().name(), c.arg(), value));
            toolstack.events().publish(new compart.core.ops.QubeEvent(c.dest().name(), "domain-feature-set:"
                    + c.arg(), Map.of("feature", c.arg(), "value", value)));
            return null;
        });
        add("admin.vm.feature.Remove", true, false, Dest.ANY, Topic.FEATURE, c -> {
            toolstack.change(inv -> inv.withFeature(c.dest().name(), c.arg(), null));
            return null;
        });

        // tags
        add("admin.vm.tag.List", false, false, Dest.ANY, Topic.TAG, c -> lines(c.dest().tags().stream()));
        add("admin.vm.tag.Get", true, false, Dest.ANY, Topic.TAG, c -> {
            Names.tag(c.arg());
            return c.dest().tags().contains(c.arg()) ? "1" : "0";
        });
        add("admin.vm.tag.Set", true, false, Dest.ANY, Topic.TAG, c -> {
            toolstack.change(inv -> inv.withTag(c.dest().name(), c.arg(), true));
            return null;
        });
        add("admin.vm.tag.Remove", true, false, Dest.ANY, Topic.TAG, c -> {
            toolstack.change(inv -> inv.withTag(c.dest().name(), c.arg(), false));
            return null;
        });

        // labels
        add("admin.label.List", false, false, Dest.ADMIN, Topic.LABEL,
                c -> lines(c.inv().labels().values().stream().map(Label::name)));
        add("admin.label.Get", true, false, Dest.ADMIN, Topic.LABEL, c -> {
            Label.validateName(c.arg());
            return c.inv().label(c.arg()).color();
        });
        add("admin.label.Index", true, false, Dest.ADMIN, Topic.LABEL, c -> {
            Label.validateName(c.arg());
            return Integer.toString(c.inv().label(c.arg()).index());
        });
        add("admin.label.Create", true, true, Dest.ADMIN, Topic.LABEL, c -> {
            String color = c.payloadAscii();
            toolstack.change(inv -> inv.withLabel(c.arg(), color));
            return null;
        });
        add("admin.label.Remove", true, false, Dest.ADMIN, Topic.LABEL, c -> {
            toolstack.change(inv -> inv.withoutLabel(c.arg()));
            return null;
        });

        // create / remove
        for (var klass : QubeClass.values()) {
            if (!klass.creatable()) {
                continue;
            }
            add("admin.vm.Create." + klass.name(), null, true, Dest.ADMIN, Topic.CREATE_REMOVE,
                    c -> create(c, klass, false));
            add("admin.vm.CreateInPool." + klass.name(), null, true, Dest.ADMIN, Topic.CREATE_REMOVE,
                    c -> create(c, klass, true));
        }
        add("admin.vm.CreateDisposable", null, null, Dest.ANY, Topic.CREATE_REMOVE, this::createDisposable);
        add("admin.vm.Remove", false, false, Dest.ANY, Topic.CREATE_REMOVE, c -> {
            if (c.dest().klass() == QubeClass.AdminVM) {
                throw CompartException.invalidState("'dom0' cannot be removed");
            }
            await(toolstack.remove(c.dest().name()));
            return null;
        });

        // lifecycle
        add("admin.vm.Start", false, false, Dest.ANY, Topic.START, c -> {
            await(toolstack.start(c.dest().name()));
            return null;
        });
        add("admin.vm.Shutdown", null, false, Dest.ANY, Topic.SHUTDOWN, c -> {
            var args = c.arg().isEmpty() ? List.<String>of() : List.of(c.arg().split("\\+"));
            if (!List.of("force", "wait").containsAll(args)) {
                throw new CompartException(ErrorKind.PROTOCOL, "Argument must match: force, wait");
            }
            await(toolstack.shutdown(c.dest().name(), args.contains("force"), args.contains("wait")));
            return null;
        });
        add("admin.vm.Kill", false, false, Dest.ANY, Topic.SHUTDOWN, c -> {
            await(toolstack.kill(c.dest().name()));
            return null;
        });
        add("admin.vm.Pause", false, false, Dest.ANY, Topic.PAUSE, c -> {
            await(toolstack.pause(c.dest().name()));
            return null;
        });
        add("admin.vm.Unpause", false, false, Dest.ANY, Topic.UNPAUSE, c -> {
            await(toolstack.unpause(c.dest().name()));
            return null;
        });

        // volumes (data in the pools, through compart.volumes) and pools
        add("admin.vm.volume.List", false, false, Dest.ANY, Topic.STORAGE,
                c -> lines(c.dest().volumes().keySet().stream()));
        add("admin.vm.volume.Info", true, false, Dest.ANY, Topic.STORAGE, this::volumeInfo);
        add("admin.vm.volume.ListSnapshots", true, false, Dest.ANY, Topic.STORAGE, c -> {
            var v = volume(c);
            if (!compart.core.storage.Storage.managed(c.inv(), v) || !v.saveOnStop()) {
                return "";
            }
            return lines(toolstack.storage().volume(c.inv(), c.dest(), v.name()).revisions().stream()
                    .map(compart.volumes.Revision::id));
        });
        add("admin.vm.volume.Revert", true, true, Dest.NOT_ADMIN, Topic.STORAGE, c -> {
            var v = managedVolume(c);
            String revision = c.payloadAscii().strip();
            await(toolstack.volumeOp(c.dest().name(), "Cannot revert a volume of a running qube", true, () -> {
                toolstack.storage().volume(toolstack.inventory(), toolstack.inventory().qube(c.dest().name()),
                        v.name()).revert(revision);
                return null;
            }));
            return null;
        });
        add("admin.vm.volume.Resize", true, true, Dest.NOT_ADMIN, Topic.STORAGE, c -> {
            var v = managedVolume(c);
            long size = parseSize(c.payloadAscii());
            if (size < v.size()) {
                throw CompartException.invalidValue("For your own safety, shrinking of %s is disabled (%d < %d). If "
                        + "you really know what you are doing, resize the filesystem first and use the pool's tools",
                        v.name(), size, v.size());
            }
            await(toolstack.volumeOp(c.dest().name(), "resize", false, () -> {
                var inv = toolstack.inventory();
                var q = inv.qube(c.dest().name());
                toolstack.storage().volume(inv, q, v.name()).resize(size);
                toolstack.change(i -> i.withQube(i.qube(q.name()).withVolume(resized(i.qube(q.name()).volumes()
                        .get(v.name()), size))));
                return null;
            }));
            return null;
        });
        add("admin.vm.volume.Set.revisions_to_keep", true, true, Dest.ANY, Topic.STORAGE, this::setRevisionsToKeep);
        add("admin.vm.volume.Set.rw", true, true, Dest.ANY, Topic.STORAGE, c -> {
            var v = volume(c);
            boolean rw = payloadBool(c);
            if (rw && !compart.core.storage.Storage.managed(c.inv(), v)) {
                throw CompartException.invalidValue("LinuxKernel supports only read-only volumes (%s:%s)",
                        c.dest().name(), v.name());
            }
            await(toolstack.changeWhileHalted(c.dest().name(), "Cannot change rw of a volume of a running qube",
                    i -> i.withQube(i.qube(c.dest().name()).withVolume(withFlags(i.qube(c.dest().name()).volumes()
                            .get(v.name()), rw, null, null)))));
            return null;
        });
        add("admin.vm.volume.Set.ephemeral", true, true, Dest.ANY, Topic.STORAGE, c -> {
            var v = volume(c);
            boolean ephemeral = payloadBool(c);
            if (!ephemeral) {
                toolstack.change(i -> i.withQube(i.qube(c.dest().name()).withVolume(withFlags(i.qube(c.dest().name())
                        .volumes().get(v.name()), null, null, false))));
                return null;
            }
            if (!compart.core.storage.Storage.managed(c.inv(), v)) {
                throw CompartException.invalidValue("LinuxModules does not support setting ephemeral value (%s:%s)",
                        c.dest().name(), v.name());
            }
            if (v.snapOnStart() || v.saveOnStop() || c.dest().klass() == QubeClass.AdminVM || !v.rw()) {
                throw CompartException.invalidValue("Cannot enable ephemeral on snap_on_start or save_on_stop or "
                        + "non-dom0 or not writable volume (%s:%s)", c.dest().name(), v.name());
            }
            throw compart.errors.Refusal.NOT_IMPLEMENTED.exception("Ephemeral volumes are not available in "
                    + "Compart: its volume drivers cannot encrypt %s:%s with a throw-away key, so it stays as it is",
                    c.dest().name(), v.name());
        });
        add("admin.vm.volume.Clear", true, false, Dest.ANY, Topic.STORAGE, c -> {
            var v = managedVolume(c);
            if (!v.saveOnStop()) {
                throw CompartException.invalidValue("volume %s:%s is not persistent (save_on_stop=False): it is made "
                        + "empty or anew at each start, there is nothing to clear", c.dest().name(), v.name());
            }
            await(toolstack.volumeOp(c.dest().name(), "Cannot clear a volume of a running qube", true, () -> {
                var i = toolstack.inventory();
                var cur = i.qube(c.dest().name()).volumes().get(v.name());
                toolstack.storage().volume(i, i.qube(c.dest().name()), v.name()).importData(new Zeros(cur.size()),
                        cur.size());
                return null;
            }));
            return null;
        });
        add("admin.vm.volume.CloneFrom", true, false, Dest.NOT_ADMIN, Topic.STORAGE, c -> {
            var v = managedVolume(c);
            if (!v.saveOnStop()) {
                throw CompartException.invalidValue("volume %s:%s is not persistent (save_on_stop=False): there is "
                        + "nothing to clone", c.dest().name(), v.name());
            }
            var token = new byte[32];
            random.nextBytes(token);
            String t = java.util.HexFormat.of().formatHex(token);
            pendingClones.put(t, new CloneSource(c.dest().name(), v.name()));
            return t;
        });
        add("admin.vm.volume.CloneTo", true, true, Dest.NOT_ADMIN, Topic.STORAGE, c -> {
            var v = managedVolume(c);
            var src = pendingClones.remove(c.payloadAscii().strip());
            if (src == null) {
                throw new CompartException(ErrorKind.PERMISSION_DENIED, "Invalid token for cloning: get one with "
                        + "admin.vm.volume.CloneFrom (each token is valid once)");
            }
            await(toolstack.volumeOp(c.dest().name(), "Cannot clone into a volume of a running qube", true, () -> {
                var inv = toolstack.inventory();
                var from = toolstack.storage().volume(inv, inv.qube(src.qube()), src.volume());
                var to = toolstack.storage().volume(inv, inv.qube(c.dest().name()), v.name());
                to.cloneFrom(from);
                long size = to.config().size();
                toolstack.change(i -> {
                    var cur = i.qube(c.dest().name()).volumes().get(v.name());
                    return size > cur.size() ? i.withQube(i.qube(c.dest().name()).withVolume(resized(cur, size))) : i;
                });
                return null;
            }));
            return null;
        });
        add("admin.pool.List", false, false, Dest.ADMIN, Topic.STORAGE,
                c -> lines(c.inv().pools().keySet().stream()));
        add("admin.pool.ListDrivers", false, false, Dest.ADMIN, Topic.STORAGE,
                c -> lines(POOL_DRIVERS.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())));
        add("admin.pool.Info", true, false, Dest.ADMIN, Topic.STORAGE, c -> {
            var info = new TreeMap<String, String>(pool(c).info());
            usage(pool(c)).ifPresent(u -> {
                info.put("size", Long.toString(u.size()));
                info.put("usage", Long.toString(u.used()));
            });
            return lines(info.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()));
        });
        add("admin.pool.UsageDetails", true, false, Dest.ADMIN, Topic.STORAGE, c -> {
            var u = usage(pool(c));
            return u.map(x -> "data_size=" + x.size() + "\ndata_usage=" + x.used() + "\nreserve=" + x.reserve()
                    + "\n").orElse("");
        });
        add("admin.pool.volume.List", true, false, Dest.ADMIN, Topic.STORAGE, c -> {
            var p = pool(c);
            return lines(c.inv().qubes().values().stream().flatMap(q -> q.volumes().values().stream())
                    .filter(v -> v.pool().equals(p.name()) && !v.vid().isEmpty()).map(VolumeDefinition::vid).sorted());
        });
        add("admin.pool.Add", true, true, Dest.ADMIN, Topic.STORAGE, this::poolAdd);
        add("admin.pool.Set.revisions_to_keep", true, true, Dest.ADMIN, Topic.STORAGE, c -> {
            var p = pool(c);
            long keep = validateNumber(c.request().untrustedPayload(), "revisions to keep", true);
            if (keep < -1) {
                throw new CompartException(ErrorKind.PROTOCOL, "Value can't be lower than -1");
            }
            if (p.driver().equals("linux-kernel")) {
                if (keep != 0) {
                    throw CompartException.invalidValue("LinuxKernel supports only revisions_to_keep=0 (pool %s)",
                            p.name());
                }
                return null;
            }
            var config = new TreeMap<>(p.config());
            config.put("revisions_to_keep", Long.toString(keep));
            var changed = new PoolDefinition(p.name(), p.driver(), config);
            toolstack.storage().pool(changed); // the driver refuses a value it cannot keep, before it is stored
            toolstack.change(inv -> inv.withPoolReplaced(changed));
            return null;
        });
        add("admin.pool.Remove", true, false, Dest.ADMIN, Topic.STORAGE, c -> {
            pool(c);
            toolstack.change(inv -> inv.withoutPool(c.arg()));
            toolstack.storage().forget(c.arg());
            return null;
        });

        // notes, firewall, devices
        add("admin.vm.notes.Get", false, false, Dest.NOT_ADMIN, Topic.GENERAL, c -> c.dest().notes());
        add("admin.vm.notes.Set", false, null, Dest.NOT_ADMIN, Topic.GENERAL, c -> {
            if (c.request().untrustedPayload().length > 256000) {
                throw new CompartException(ErrorKind.PROTOCOL, "Maximum note size is 256000 bytes");
            }
            var notes = new StringBuilder();
            new String(c.request().untrustedPayload(), StandardCharsets.UTF_8).codePoints().forEach(cp ->
                    notes.appendCodePoint(cp == '\t' || cp == '\n' || (cp >= 0x20 && cp != 0x7f && cp != 0xfffd
                            && !Character.isISOControl(cp) && Character.getType(cp) != Character.FORMAT) ? cp : '_'));
            toolstack.change(inv -> inv.withQube(inv.qube(c.dest().name()).withNotes(notes.toString())));
            return null;
        });
        add("admin.vm.firewall.Get", false, false, Dest.NOT_ADMIN, Topic.GENERAL,
                c -> {
                    long now = java.time.Instant.now().getEpochSecond();
                    return lines(c.dest().firewall().stream().filter(r -> !FirewallRules.expired(r, now)));
                });
        add("admin.vm.firewall.Set", false, true, Dest.NOT_ADMIN, Topic.GENERAL, c -> {
            var rules = FirewallRules.parse(c.payloadAscii());
            toolstack.change(inv -> inv.withQube(inv.qube(c.dest().name()).withFirewall(rules)));
            toolstack.events().publish(new compart.core.ops.QubeEvent(c.dest().name(), "firewall-changed", Map.of()));
            return null;
        });
        add("admin.vm.firewall.Reload", false, false, Dest.NOT_ADMIN, Topic.GENERAL, c -> {
            toolstack.events().publish(new compart.core.ops.QubeEvent(c.dest().name(), "firewall-changed", Map.of()));
            return null;
        });
        add("admin.deviceclass.List", false, false, Dest.ADMIN, Topic.GENERAL, c -> lines(DEVICE_CLASSES.stream()));
        for (var dc : DEVICE_CLASSES) {
            // Compart exposes no devices yet: the lists are truly empty
            add("admin.vm.device." + dc + ".Available", null, false, Dest.ANY, Topic.GENERAL, c -> "");
            add("admin.vm.device." + dc + ".Assigned", null, false, Dest.ANY, Topic.GENERAL, c -> "");
            add("admin.vm.device." + dc + ".Attached", null, false, Dest.ANY, Topic.GENERAL, c -> "");
        }
        add("admin.vm.device.denied.List", false, false, Dest.ANY, Topic.GENERAL, c -> "");
    }

    private String vmList(Call c) {
        var inv = c.inv();
        var qubes = c.dest().klass() == QubeClass.AdminVM ? new ArrayList<>(inv.qubes().values())
                : new ArrayList<>(List.of(c.dest()));
        String source = c.request().source();
        if (!source.equals("dom0")) {
            var p = policy.get();
            var system = systemInfo(inv);
            qubes.removeIf(q -> p == null || !runsInDom0(p.evaluate(new compart.policy.Request("admin.vm.List",
                    "+", source, q.klass() == QubeClass.AdminVM ? "@adminvm" : q.name()), system)));
        }
        qubes.sort(Comparator.comparing((Qube q) -> q.klass() != QubeClass.AdminVM).thenComparing(Qube::name));
        var b = new StringBuilder(qubes.size() * 80);
        for (var q : qubes) {
            b.append(q.name()).append(" class=").append(q.klass().name()).append(" state=")
                    .append(toolstack.powerState(q.name()).name()).append(" uuid=").append(q.uuid()).append('\n');
        }
        return b.toString();
    }

    private String currentState(Call c) {
        var name = c.dest().name();
        var state = toolstack.powerState(name);
        var info = c.dest().klass() == QubeClass.AdminVM ? Optional.<compart.core.hypervisor.DomainStatus>empty()
                : toolstack.domainInfo(name);
        long mem = info.map(compart.core.hypervisor.DomainStatus::memoryKib).orElse(0L);
        long max = state == PowerState.Halted || c.dest().klass() == QubeClass.AdminVM ? 0
                : c.inv().intValue(c.dest(), "maxmem") * 1024;
        long cpu = info.map(compart.core.hypervisor.DomainStatus::cpuTimeNs).orElse(0L);
        return "mem=" + mem + " mem_static_max=" + max + " cputime=" + cpu + " power_state=" + state.name();
    }

    private String propertySet(Call c) {
        String value = c.payloadAscii();
        String name = c.dest().name();
        if (c.arg().equals("template") && c.dest().klass() != QubeClass.AdminVM) {
            await(toolstack.changeWhileHalted(name, "Cannot change template while qube is running",
                    inv -> inv.withProperty(name, c.arg(), value)));
        } else {
            toolstack.change(inv -> inv.withProperty(name, c.arg(), value));
        }
        toolstack.events().publish(new compart.core.ops.QubeEvent(name, "property-set:" + c.arg(),
                Map.of("name", c.arg(), "newvalue", value)));
        return null;
    }

    private String create(Call c, QubeClass klass, boolean allowPool) {
        String payload = c.payloadAscii();
        var options = new TreeMap<String, String>();
        for (String param : payload.split(" ")) {
            int eq = param.indexOf('=');
            if (eq < 0) {
                throw new CompartException(ErrorKind.PROTOCOL, "Options must be key=value: name, label, pool, "
                        + "pool:VOLUME");
            }
            String key = param.substring(0, eq);
            boolean poolKey = key.equals("pool") || key.startsWith("pool:");
            if (!key.equals("name") && !key.equals("label") && !poolKey) {
                throw new CompartException(ErrorKind.PROTOCOL, "Options does not match: name, label, pool, pool:");
            }
            if (poolKey && !allowPool) {
                throw new CompartException(ErrorKind.PROTOCOL, "Pool option specified but 'allow_pool' is False");
            }
            if (options.put(key, param.substring(eq + 1)) != null) {
                throw new CompartException(ErrorKind.PROTOCOL, "Options must be unique");
            }
        }
        for (String required : List.of("name", "label")) {
            if (!options.containsKey(required)) {
                throw new CompartException(ErrorKind.PROTOCOL, "Creation requested without key: " + required);
            }
        }
        if (options.containsKey("pool") && options.keySet().stream().anyMatch(k -> k.startsWith("pool:"))) {
            throw new CompartException(ErrorKind.PROTOCOL, "Conflicting options specified: 'pool=', 'pool:volume='");
        }
        Label.validateName(options.get("label"));
        String name = Names.qube(options.get("name"));
        if (toolstack.broken().contains(name)) {
            throw new CompartException(ErrorKind.ALREADY_EXISTS, "Qube already exists: " + name + " (its stored "
                    + "entry cannot be read: see compartd's log)");
        }
        Optional<String> template = c.arg().isEmpty() ? Optional.empty() : Optional.of(c.arg());
        if (template.isPresent() && !klass.hasTemplate()) {
            throw new CompartException(ErrorKind.PROTOCOL, klass + " cannot be based on template");
        }
        for (var e : options.entrySet()) {
            if (e.getKey().startsWith("pool") && !c.inv().pools().containsKey(e.getValue())) {
                throw new CompartException(ErrorKind.STORAGE, "No such storage pool: " + e.getValue());
            }
            if (e.getKey().startsWith("pool:") && !List.of("root", "private", "volatile", "kernel")
                    .contains(e.getKey().substring(5))) {
                throw new CompartException(ErrorKind.PROTOCOL, "Volume must be one of: root, private, volatile, kernel");
            }
        }
        toolstack.create(name, inv -> {
            var after = inv.withNewQube(klass, name, options.get("label"), template, random);
            var q = after.qube(name);
            for (var v : q.volumes().values()) {
                String pool = options.getOrDefault("pool:" + v.name(), options.get("pool"));
                if (pool != null && !v.name().equals("kernel")) {
                    q = q.withVolume(new VolumeDefinition(v.name(), pool, v.vid(), v.size(), v.rw(), v.snapOnStart(),
                            v.saveOnStop(), v.source(), v.revisionsToKeep(), v.ephemeral()));
                }
            }
            q = q.withTag("created-by-" + c.request().source(), true);
            after = after.withQube(q);
            if (klass == QubeClass.DispVM) { // as Qubes' DispVM (the inventory checked template_for_dispvms)
                // takes its template's settings, but not what the call set itself (the label)
                after = compart.core.ops.Disposables.inheritFromTemplate(after, name, after.qube(template.get()))
                        .withProperty(name, "label", options.get("label"));
            }
            return after;
        });
        toolstack.events().publish(new compart.core.ops.QubeEvent("", "domain-add", Map.of("vm", name)));
        return null;
    }

    /**
     * {@code admin.vm.CreateDisposable} as qubesd: on a disposable template, a disposable of it; on dom0, one of the
     * caller's {@code default_dispvm}. The payload {@code uuid} asks for {@code uuid:UUID} instead of the name.
     * The argument {@code preload} (Qubes' preloaded disposables) is not implemented.
     */
    private String createDisposable(Call c) {
        if (!c.arg().isEmpty() && !c.arg().equals("preload")) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Argument not in \"'', 'preload'\"");
        }
        String payload = new String(c.request().untrustedPayload(), StandardCharsets.ISO_8859_1);
        if (!payload.isEmpty() && !payload.equals("uuid")) {
            throw new CompartException(ErrorKind.PROTOCOL, "Invalid payload, expected empty string or 'uuid'");
        }
        String source = c.request().source();
        String base = c.dest().klass() == QubeClass.AdminVM
                ? c.inv().value(c.inv().qube(source), "default_dispvm").orElse("") : c.dest().name();
        if (c.arg().equals("preload")) {
            throw compart.errors.Refusal.NOT_IMPLEMENTED.exception("Preloaded disposables are not available in "
                    + "Compart: admin.vm.CreateDisposable+preload (of %s) does nothing", base.isEmpty() ? "no "
                    + "default_dispvm" : base);
        }
        var d = toolstack.disposables().create(base, source);
        return payload.isEmpty() ? d.name() : "uuid:" + d.uuid();
    }

    private String poolAdd(Call c) {
        if (!POOL_DRIVERS.containsKey(c.arg())) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Argument not in 'available drivers'");
        }
        var config = new TreeMap<String, String>();
        for (String line : c.payloadAscii().split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw new CompartException(ErrorKind.PROTOCOL, "Options must be separated by equal sign");
            }
            if (config.put(line.substring(0, eq), line.substring(eq + 1)) != null) {
                throw new CompartException(ErrorKind.PROTOCOL, "Options must be unique");
            }
        }
        String name = config.remove("name");
        if (name == null) {
            throw new CompartException(ErrorKind.PROTOCOL, "Pool configuration must contain key: name");
        }
        var allowed = Set.of(POOL_DRIVERS.get(c.arg()).split(" "));
        if (!allowed.containsAll(config.keySet())) {
            throw new CompartException(ErrorKind.PROTOCOL, "Unexpected driver options found");
        }
        var pool = new PoolDefinition(name, c.arg(), config);
        if (c.inv().pools().containsKey(name)) {
            throw new CompartException(ErrorKind.ALREADY_EXISTS, "Storage pool is in use: '" + name + "'");
        }
        if (!pool.driver().equals("linux-kernel")) {
            toolstack.storage().pool(pool); // refuses what cannot hold volumes (no reflink, bad options) before storing
        }
        toolstack.change(inv -> inv.withPool(pool));
        return null;
    }

    /** As qubesd's {@code vm.volume.Set.revisions_to_keep}: -1 (snapshots off) needs the qube and its disposables halted. */
    private String setRevisionsToKeep(Call c) {
        var v = volume(c);
        long keep = validateNumber(c.request().untrustedPayload(), "revisions to keep", true);
        if (keep < -1 || keep > 1000) {
            throw CompartException.invalidValue("Invalid value for revisions_to_keep: %d (-1 .. 1000)", keep);
        }
        if (!compart.core.storage.Storage.managed(c.inv(), v)) {
            if (keep != 0) {
                throw CompartException.invalidValue("LinuxKernel supports only revisions_to_keep=0 (%s:%s)",
                        c.dest().name(), v.name());
            }
            return null;
        }
        String name = c.dest().name();
        boolean snapshotsOnOff = keep != v.revisionsToKeep() && (keep == -1 || v.revisionsToKeep() == -1);
        toolstack.change(i -> {
            if (snapshotsOnOff) {
                for (var q : i.qubes().values()) {
                    boolean itsDisposable = q.klass() == QubeClass.DispVM && i.value(q, "template").orElse("")
                            .equals(name);
                    if ((q.name().equals(name) || itsDisposable) && toolstack.powerState(q.name())
                            != PowerState.Halted) {
                        throw compart.errors.Refusal.NOT_HALTED.exception("Cannot turn snapshots of %s:%s on or "
                                + "off while %s is running; shut it down first", name, v.name(), q.name());
                    }
                }
            }
            var cur = i.qube(name).volumes().get(v.name());
            return i.withQube(i.qube(name).withVolume(withFlags(cur, null, (int) keep, null)));
        });
        return null;
    }

    /** @return {@code v} with the given fields changed (null: unchanged) */
    private static VolumeDefinition withFlags(VolumeDefinition v, Boolean rw, Integer revisionsToKeep, Boolean ephemeral) {
        return new VolumeDefinition(v.name(), v.pool(), v.vid(), v.size(), rw == null ? v.rw() : rw, v.snapOnStart(),
                v.saveOnStop(), v.source(), revisionsToKeep == null ? v.revisionsToKeep() : revisionsToKeep,
                ephemeral == null ? v.ephemeral() : ephemeral);
    }

    /** Parses a number as qubesd's {@code validate_number}: ProtocolError for anything but plain decimal digits. */
    static long validateNumber(byte[] untrusted, String name, boolean allowNegative) {
        String cap = Character.toUpperCase(name.charAt(0)) + name.substring(1);
        int sign = 1;
        int from = 0;
        if (allowNegative && untrusted.length > 0 && untrusted[0] == '-') {
            sign = -1;
            from = 1;
        }
        if (untrusted.length == from) {
            throw new CompartException(ErrorKind.PROTOCOL, cap + " contains non ASCII digits");
        }
        for (int i = from; i < untrusted.length; i++) {
            if (untrusted[i] < '0' || untrusted[i] > '9') {
                throw new CompartException(ErrorKind.PROTOCOL, cap + " contains non ASCII digits");
            }
        }
        if (untrusted.length - from >= 20) {
            throw new CompartException(ErrorKind.PROTOCOL, cap + " is bigger than 19 decimal digits");
        }
        if (untrusted[from] == '0' && untrusted.length - from > 1) {
            throw new CompartException(ErrorKind.PROTOCOL, cap + " contains spurious leading zeros");
        }
        try {
            return sign * Long.parseLong(new String(untrusted, from, untrusted.length - from,
                    StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            throw new CompartException(ErrorKind.PROTOCOL, cap + " is too big");
        }
    }

    /** Parses a boolean payload as qubesd's volume setters: 0/no/false/off, 1/yes/true/on, any case. */
    private static boolean payloadBool(Call c) {
        String value = new String(c.request().untrustedPayload(), StandardCharsets.ISO_8859_1).toLowerCase(
                java.util.Locale.ROOT);
        return switch (value) {
            case "0", "no", "false", "off" -> false;
            case "1", "yes", "true", "on" -> true;
            default -> throw new CompartException(ErrorKind.PROTOCOL, "Payload is not boolean ASCII");
        };
    }

    /** {@code size} zero bytes: what a cleared volume holds (the volume drivers keep zeros sparse). */
    private static final class Zeros extends java.io.InputStream {
        private long left;

        Zeros(long size) {
            left = size;
        }

        @Override
        public int read() {
            if (left == 0) {
                return -1;
            }
            left--;
            return 0;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (left == 0) {
                return len == 0 ? 0 : -1;
            }
            int n = (int) Math.min(len, left);
            java.util.Arrays.fill(b, off, off + n, (byte) 0);
            left -= n;
            return n;
        }
    }

    private String volumeInfo(Call c) {
        var v = volume(c);
        long usage = 0;
        boolean outdated = false;
        String path = pathOf(c.inv(), v);
        if (compart.core.storage.Storage.managed(c.inv(), v)) {
            var vol = toolstack.storage().volume(c.inv(), c.dest(), v.name());
            usage = vol.usage();
            outdated = vol.isOutdated();
        }
        long size = compart.core.storage.Storage.reportedSize(c.inv(), c.dest(), v);
        return "pool=" + v.pool() + "\nvid=" + v.vid() + "\nsize=" + size + "\nusage=" + usage + "\nrw=" + py(v.rw())
                + "\nsource=" + (v.snapOnStart() ? sourceVid(c, v) : "") + "\npath=" + path
                + "\nsave_on_stop=" + py(v.saveOnStop()) + "\nsnap_on_start=" + py(v.snapOnStart())
                + "\nrevisions_to_keep=" + v.revisionsToKeep() + "\nephemeral=" + py(v.ephemeral())
                + "\nis_outdated=" + py(outdated) + "\n";
    }

    private static String sourceVid(Call c, VolumeDefinition v) {
        try {
            return compart.core.storage.Storage.configOf(c.inv(), c.dest(), v).source();
        } catch (CompartException e) {
            return v.source();
        }
    }

    private static VolumeDefinition managedVolume(Call c) {
        var v = volume(c);
        if (!compart.core.storage.Storage.managed(c.inv(), v)) {
            throw CompartException.invalidValue("volume %s:%s is provided by pool %s and cannot be changed",
                    c.dest().name(), v.name(), v.pool());
        }
        return v;
    }

    private static VolumeDefinition resized(VolumeDefinition v, long size) {
        return new VolumeDefinition(v.name(), v.pool(), v.vid(), size, v.rw(), v.snapOnStart(), v.saveOnStop(),
                v.source(), v.revisionsToKeep(), v.ephemeral());
    }

    private static long parseSize(String untrusted) {
        String s = untrusted.strip();
        if (!s.matches("[0-9]{1,19}")) {
            throw CompartException.invalidValue("Invalid size: %s (bytes, a decimal number)",
                    QubeClassNames.printable(s));
        }
        long size = Long.parseLong(s);
        if (size % 512 != 0) {
            throw CompartException.invalidValue("Invalid size: %d is not a multiple of 512 bytes", size);
        }
        return size;
    }

    private Optional<compart.volumes.PoolUsage> usage(PoolDefinition p) {
        if (p.driver().equals("linux-kernel")) {
            return Optional.empty();
        }
        try {
            return Optional.of(toolstack.storage().pool(p).usage());
        } catch (CompartException e) {
            LOG.warn("pool {}: {}", p.name(), e.getMessage());
            return Optional.empty();
        }
    }

    private static PoolDefinition pool(Call c) {
        var p = c.inv().pools().get(c.arg());
        if (p == null) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Argument not in 'pools'");
        }
        return p;
    }

    private static VolumeDefinition volume(Call c) {
        var v = c.dest().volumes().get(c.arg());
        if (v == null) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Argument not in '" + c.dest().name()
                    + " volumes'");
        }
        return v;
    }

    private static String pathOf(Inventory inv, VolumeDefinition v) {
        var pool = inv.pools().get(v.pool());
        String dir = pool == null ? "" : pool.config().getOrDefault("dir_path", "");
        return v.vid().isEmpty() ? "" : (dir.isEmpty() ? "" : dir + "/") + v.vid() + ".img";
    }

    private static String py(boolean b) {
        return b ? "True" : "False";
    }

    private static String feature(Call c, Optional<String> value) {
        return value.orElseThrow(() -> CompartException.notFound("Feature not set for domain %s: %s",
                c.dest().name(), QubeClassNames.printable(c.arg())));
    }

    /** A qube's property as the model has it, but {@code xid} from the live domain (stateless in Qubes). */
    private PropertyValue property(Call c, String name) {
        var v = c.inv().property(c.dest(), name);
        if (name.equals("xid") && c.dest().klass() != QubeClass.AdminVM) {
            var live = toolstack.live(c.dest().name());
            return new PropertyValue(name, v.type(), true,
                    Optional.of(live.map(l -> Integer.toString(l.domid())).orElse("-1")));
        }
        return v;
    }

    static String serialize(PropertyValue v) {
        return "default=" + (v.isDefault() ? "True" : "False") + " type=" + v.type().wireName() + " " + v.text();
    }

    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\n", "\\n");
    }
}
