package compart.core.api;

import static compart.core.api.AdminText.lines;

import compart.core.hypervisor.DomainStatus;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import compart.core.ops.PowerState;
import compart.core.ops.QubeOps;
import compart.core.ops.Toolstack;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The qubes and their lives: {@code admin.vmclass.List}, {@code admin.vm.List}, {@code admin.Events} (its checks),
 * {@code admin.vm.CurrentState}, {@code admin.vm.Start/Shutdown/Kill/Pause/Unpause}, {@code admin.vm.Create.*},
 * {@code admin.vm.CreateInPool.*}, {@code admin.vm.CreateDisposable} and {@code admin.vm.Remove}.
 */
record VmLifecycleMethods(Toolstack toolstack, QubeOps qubes, PolicyGate gate) {
    @Handles(value = "admin.vmclass.List", dest = Dest.ADMIN)
    String vmclassList(Call c) {
        return lines(Arrays.stream(QubeClass.values()).map(Enum::name).sorted());
    }

    /** The checks of {@code admin.Events}: the server streams the events after this answers. */
    @Handles("admin.Events")
    String events(Call c) {
        return "";
    }

    @Handles("admin.vm.List")
    String vmList(Call c) {
        var inv = c.inv();
        List<Qube> all = c.dest().klass() == QubeClass.AdminVM ? List.copyOf(inv.qubes().values())
                : List.of(c.dest());
        String source = c.request().source();
        var listed = new ArrayList<>(source.equals("dom0") ? all : gate.listable(inv, source, all));
        listed.sort(Comparator.comparing((Qube q) -> q.klass() != QubeClass.AdminVM).thenComparing(Qube::name));
        var b = new StringBuilder(listed.size() * 80);
        for (var q : listed) {
            b.append(q.name()).append(" class=").append(q.klass().name()).append(" state=")
                    .append(toolstack.powerState(q.name()).name()).append(" uuid=").append(q.uuid()).append('\n');
        }
        return b.toString();
    }

    @Handles("admin.vm.CurrentState")
    String vmCurrentState(Call c) {
        var name = c.destName();
        var state = toolstack.powerState(name);
        boolean admin = c.dest().klass() == QubeClass.AdminVM;
        Optional<DomainStatus> info = admin ? Optional.empty() : toolstack.domainInfo(name);
        long mem = info.map(DomainStatus::memoryKib).orElse(0L);
        long max = state == PowerState.Halted || admin ? 0 : c.inv().intValue(c.dest(), "maxmem") * 1024;
        long cpu = info.map(DomainStatus::cpuTimeNs).orElse(0L);
        return "mem=" + mem + " mem_static_max=" + max + " cputime=" + cpu + " power_state=" + state.name();
    }

    /** Starts the qube, its netvm chain first; completes when it runs. */
    @Handles(value = "admin.vm.Start", topic = Topic.START)
    void vmStart(Call c) {
        toolstack.start(c.destName()).join();
    }

    /** Shuts the qube down; the argument {@code force}, {@code wait} or {@code force+wait}. */
    @Handles(value = "admin.vm.Shutdown", arg = Arg.OPTIONAL, topic = Topic.SHUTDOWN)
    void vmShutdown(Call c) {
        var args = c.arg().isEmpty() ? List.<String>of() : List.of(c.arg().split("\\+"));
        if (!List.of("force", "wait").containsAll(args)) {
            throw new CompartException(ErrorKind.PROTOCOL, "Argument must match: force, wait");
        }
        toolstack.shutdown(c.destName(), args.contains("force"), args.contains("wait")).join();
    }

    /** Destroys the qube's domain at once (its volumes are then stopped as after a shutdown). */
    @Handles(value = "admin.vm.Kill", topic = Topic.SHUTDOWN)
    void vmKill(Call c) {
        toolstack.kill(c.destName()).join();
    }

    /** Pauses the running qube's domain. */
    @Handles(value = "admin.vm.Pause", topic = Topic.PAUSE)
    void vmPause(Call c) {
        toolstack.pause(c.destName()).join();
    }

    /** Unpauses the paused qube's domain. */
    @Handles(value = "admin.vm.Unpause", topic = Topic.UNPAUSE)
    void vmUnpause(Call c) {
        toolstack.unpause(c.destName()).join();
    }

    /** Removes a halted qube and its volumes. */
    @Handles(value = "admin.vm.Remove", topic = Topic.CREATE_REMOVE)
    void vmRemove(Call c) {
        if (c.dest().klass() == QubeClass.AdminVM) {
            throw CompartException.invalidState("'dom0' cannot be removed");
        }
        toolstack.remove(c.destName()).join();
    }

    /** {@code admin.vm.Create.CLASS}: payload {@code name=NAME label=LABEL}, argument the template (optional). */
    @Handles(value = "admin.vm.Create.{class}", arg = Arg.OPTIONAL, payload = Payload.REQUIRED, dest = Dest.ADMIN,
            topic = Topic.CREATE_REMOVE)
    void vmCreate(Call c) {
        create(c, false);
    }

    /** {@code admin.vm.CreateInPool.CLASS}: as {@link #vmCreate}, also {@code pool=} or {@code pool:VOLUME=}. */
    @Handles(value = "admin.vm.CreateInPool.{class}", arg = Arg.OPTIONAL, payload = Payload.REQUIRED,
            dest = Dest.ADMIN, topic = Topic.CREATE_REMOVE)
    void vmCreateInPool(Call c) {
        create(c, true);
    }

    private void create(Call c, boolean allowPool) {
        String method = c.request().method();
        var klass = QubeClass.valueOf(method.substring(method.lastIndexOf('.') + 1));
        var options = new TreeMap<String, String>();
        for (String param : c.payloadAscii().split(" ")) {
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
        String name = options.remove("name");
        String label = options.remove("label");
        qubes.createQube(klass, name, label, c.arg().isEmpty() ? Optional.empty() : Optional.of(c.arg()), options,
                c.request().source());
    }

    /**
     * {@code admin.vm.CreateDisposable} as qubesd: on a disposable template, a disposable of it; on dom0, one of the
     * caller's {@code default_dispvm}. The payload {@code uuid} asks for {@code uuid:UUID} instead of the name.
     * A preloaded disposable is handed out when there is one. The argument {@code preload} fills the queue of
     * preloaded disposables of that template now (Qubes' autostart of preloads) and answers nothing.
     */
    @Handles(value = "admin.vm.CreateDisposable", arg = Arg.OPTIONAL, payload = Payload.OPTIONAL,
            topic = Topic.CREATE_REMOVE)
    String vmCreateDisposable(Call c) {
        if (!c.arg().isEmpty() && !c.arg().equals("preload")) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Argument not in \"'', 'preload'\"");
        }
        String payload = new String(c.untrustedPayload(), StandardCharsets.ISO_8859_1);
        if (!payload.isEmpty() && !payload.equals("uuid")) {
            throw new CompartException(ErrorKind.PROTOCOL, "Invalid payload, expected empty string or 'uuid'");
        }
        String source = c.request().source();
        String base = c.dest().klass() == QubeClass.AdminVM
                ? c.inv().value(c.inv().qube(source), "default_dispvm").orElse("") : c.destName();
        if (c.arg().equals("preload")) {
            qubes.preloadDisposables(base);
            return "";
        }
        var d = qubes.createDisposable(base, source);
        return payload.isEmpty() ? d.name() : "uuid:" + d.uuid();
    }
}
