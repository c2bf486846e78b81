package compart.core.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import compart.core.model.Inventory;
import compart.core.model.Label;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import compart.policy.QubeInfo;
import compart.policy.SystemInfo;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the qrexec policy knows of each qube (class, tags, disposable settings, power state, uuid), for the policy
 * decisions of the Admin API and the qrexec router, and as the JSON of {@code internal.GetSystemInfo}.
 *
 * <p>Thread safe; each call reads the inventory and power states of that moment.
 */
public final class SystemInfoOps {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Toolstack toolstack;

    /** @param toolstack the qubes and their power states */
    public SystemInfoOps(Toolstack toolstack) {
        this.toolstack = toolstack;
    }

    /** @return what the policy needs to know about each qube now */
    public SystemInfo systemInfo() {
        return systemInfo(toolstack.inventory());
    }

    /** @return what the policy needs to know about each qube of {@code inv} */
    public SystemInfo systemInfo(Inventory inv) {
        var qubes = new ArrayList<QubeInfo>(inv.qubes().size());
        for (var q : inv.qubes().values()) {
            boolean admin = q.klass() == QubeClass.AdminVM;
            qubes.add(new QubeInfo(q.name(), q.klass().name(), q.tags(),
                    !admin && inv.hasProperty(q, "template_for_dispvms") && inv.boolValue(q, "template_for_dispvms"),
                    inv.value(q, "default_dispvm").filter(x -> !x.isEmpty()).orElse(null),
                    toolstack.powerState(q.name()).name(),
                    admin ? SystemInfo.DOM0_UUID : q.uuid().toString(),
                    q.features().containsKey("internal") && !q.features().get("internal").isEmpty(),
                    null, null, null));
        }
        return SystemInfo.of(qubes);
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
        var domains = new LinkedHashMap<String, Object>();
        var ordered = new ArrayList<>(inv.qubes().values());
        ordered.sort(Comparator.comparingInt(Qube::qid));
        for (var q : ordered) {
            boolean admin = q.klass() == QubeClass.AdminVM;
            var e = new LinkedHashMap<String, Object>();
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
            e.put("uuid", admin ? SystemInfo.DOM0_UUID : q.uuid().toString());
            domains.put(q.name(), e);
        }
        try {
            return JSON.writeValueAsString(Map.of("domains", domains));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot write the system info", e);
        }
    }

    private static String vmOrNull(Inventory inv, Qube q, String property) {
        return inv.hasProperty(q, property) ? inv.value(q, property).filter(x -> !x.isEmpty()).orElse(null) : null;
    }
}
