package compart.policy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.util.LinkedHashMap;
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
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private SystemInfoJson() {
    }

    /**
     * @param in   the JSON text
     * @param name where it came from, for messages
     * @throws CompartException INVALID_VALUE when it is not JSON of that shape
     */
    public static SystemInfo read(InputStream in, String name) {
        Object root;
        try (JsonParser p = FACTORY.createParser(in)) {
            p.nextToken();
            root = value(p);
            if (p.nextToken() != null) throw new JsonParseException(p, "trailing data after the JSON value");
        } catch (IOException e) {
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.toString();
            throw new CompartException(ErrorKind.INVALID_VALUE, "system info " + name + " is not valid JSON: " + why
                    + "; give {\"domains\": {\"NAME\": {...}}} as internal.GetSystemInfo answers", e);
        }
        List<QubeInfo> qubes = new ArrayList<>();
        if (root instanceof Map<?, ?> m && m.get("domains") instanceof Map<?, ?> domains) {
            for (Map.Entry<?, ?> e : domains.entrySet()) qubes.add(qube((String) e.getKey(), e.getValue(), name));
        } else if (root instanceof Map<?, ?> m && m.get("vms") instanceof List<?> vms) {
            for (Object vm : vms) {
                String n = vm instanceof Map<?, ?> v ? text(v, "name") : null;
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

    /** Reads the value at the current token: Map, List, String, Boolean, Number or null. */
    private static Object value(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == null) throw new JsonParseException(p, "no JSON value");
        switch (t) {
            case START_OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    p.nextToken();
                    m.put(key, value(p));
                }
                return m;
            }
            case START_ARRAY -> {
                List<Object> l = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) l.add(value(p));
                return l;
            }
            case VALUE_STRING -> {
                return p.getText();
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return t == JsonToken.VALUE_TRUE;
            }
            case VALUE_NULL -> {
                return null;
            }
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                return p.getText();
            }
            default -> throw new JsonParseException(p, "unexpected " + t);
        }
    }

    private static QubeInfo qube(String qubeName, Object entry, String source) {
        if (!(entry instanceof Map<?, ?> n)) {
            throw CompartException.invalidValue("system info %s: the entry of qube '%s' is not an object",
                    source, qubeName);
        }
        Set<String> tags = new LinkedHashSet<>();
        if (n.get("tags") instanceof List<?> l) {
            for (Object t : l) if (t != null) tags.add(t.toString());
        }
        boolean dom0 = "dom0".equals(qubeName);
        String type = text(n, "type");
        String power = text(n, "power_state");
        String uuid = text(n, "uuid");
        return new QubeInfo(qubeName, type == null && dom0 ? "AdminVM" : type, tags, Boolean.TRUE.equals(
                n.get("template_for_dispvms")), text(n, "default_dispvm"),
                power == null && dom0 ? "Running" : power, uuid == null && dom0 ? SystemInfo.DOM0_UUID : uuid,
                n.get("internal") instanceof Boolean b ? b : n.get("internal") instanceof String s && !s.isEmpty(),
                text(n, "guivm"), text(n, "relayvm"),
                text(n, "transport_rpc"));
    }

    private static String text(Map<?, ?> n, String key) {
        Object v = n.get(key);
        return v == null ? null : v.toString();
    }
}
