package compart.policy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a {@link SystemInfo} from JSON in the shape of Qubes' {@code internal.GetSystemInfo} answer:
 * {@code {"domains": {"NAME": {"type": ..., "tags": [...], "template_for_dispvms": ..., "default_dispvm": ...,
 * "power_state": ..., "uuid": ..., "internal": ..., "guivm": ..., "relayvm": ..., "transport_rpc": ...}}}}, or
 * {@code {"vms": [{"name": "NAME", ...}]}}. Unknown keys are ignored; dom0 is added when absent.
 */
public final class SystemInfoJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private SystemInfoJson() {
    }

    /**
     * @param in   the JSON text
     * @param name where it came from, for messages
     * @throws CompartException INVALID_VALUE when it is not JSON of that shape
     */
    public static SystemInfo read(InputStream in, String name) {
        JsonNode root;
        try {
            root = MAPPER.readTree(in);
        } catch (IOException e) {
            throw new CompartException(ErrorKind.INVALID_VALUE,
                    "system info " + name + " is not valid JSON: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage())
                            + "; give {\"domains\": {\"NAME\": {...}}} as internal.GetSystemInfo answers", e);
        }
        List<Qube> qubes = new ArrayList<>();
        if (root != null && root.path("domains").isObject()) {
            for (Map.Entry<String, JsonNode> e : root.get("domains").properties()) {
                qubes.add(qube(e.getKey(), e.getValue(), name));
            }
        } else if (root != null && root.path("vms").isArray()) {
            for (JsonNode vm : root.get("vms")) {
                String n = text(vm, "name");
                if (n == null || n.isEmpty()) {
                    throw CompartException.invalidValue(
                            "system info %s: an entry of \"vms\" has no \"name\": give every qube its name", name);
                }
                qubes.add(qube(n, vm, name));
            }
        } else {
            throw CompartException.invalidValue("system info %s has neither a \"domains\" object nor a \"vms\" "
                    + "list: give {\"domains\": {\"NAME\": {...}}} as internal.GetSystemInfo answers", name);
        }
        return SystemInfo.of(qubes);
    }

    private static Qube qube(String qubeName, JsonNode n, String source) {
        if (!n.isObject()) {
            throw CompartException.invalidValue("system info %s: the entry of qube '%s' is not an object",
                    source, qubeName);
        }
        Set<String> tags = new LinkedHashSet<>();
        for (JsonNode t : n.path("tags")) tags.add(t.asText());
        String type = text(n, "type");
        if (type == null && "dom0".equals(qubeName)) type = "AdminVM";
        String power = text(n, "power_state");
        if (power == null && "dom0".equals(qubeName)) power = "Running";
        String uuid = text(n, "uuid");
        if (uuid == null && "dom0".equals(qubeName)) uuid = SystemInfo.DOM0_UUID;
        return new Qube(qubeName, type, tags, n.path("template_for_dispvms").asBoolean(false),
                text(n, "default_dispvm"), power, uuid, n.path("internal").asBoolean(false), text(n, "guivm"),
                text(n, "relayvm"), text(n, "transport_rpc"));
    }

    private static String text(JsonNode n, String key) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? null : v.asText();
    }
}
