package compart.volumes.lvm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Parses {@code lvs --reportformat json --units b --nosuffix -o} {@link #FIELDS}: one JSON document with
 * {@code report[0].lv[]}, every value a string (sizes may still carry a {@code B}; {@code data_percent} is empty
 * for volumes that are not thin).
 */
final class LvsReport {
    /** The fields asked for, in {@code lvs -o} syntax. */
    static final String FIELDS = "vg_name,lv_name,pool_lv,lv_size,data_percent,lv_attr,origin,lv_tags";
    private static final ObjectMapper JSON = new ObjectMapper();

    private LvsReport() {}

    static List<LogicalVolume> parse(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "lvs printed no valid JSON: " + e.getMessage(), e);
        }
        List<LogicalVolume> out = new ArrayList<>();
        for (JsonNode report : root.path("report")) {
            for (JsonNode lv : report.path("lv")) {
                String vg = lv.path("vg_name").asText("");
                String name = lv.path("lv_name").asText("");
                if (vg.isEmpty() || name.isEmpty()) {
                    continue;
                }
                Set<String> tags = Arrays.stream(lv.path("lv_tags").asText("").split(","))
                        .map(String::strip).filter(t -> !t.isEmpty()).collect(Collectors.toSet());
                out.add(new LogicalVolume(vg, name, lv.path("pool_lv").asText(""), bytes(lv.path("lv_size").asText("")),
                        percent(lv.path("data_percent").asText("")), lv.path("lv_attr").asText(""),
                        lv.path("origin").asText(""), tags));
            }
        }
        return out;
    }

    private static long bytes(String v) {
        String s = v.strip();
        if (s.endsWith("B") || s.endsWith("b")) {
            s = s.substring(0, s.length() - 1);
        }
        return number(s, v, "a size that is not a byte count", Long::parseLong).longValue();
    }

    private static double percent(String v) {
        return number(v.strip(), v, "a percentage that is not a number", Double::parseDouble).doubleValue();
    }

    /** @return {@code s} parsed, 0 when empty; STORAGE saying lvs gave {@code what} when malformed */
    private static Number number(String s, String field, String what, Function<String, Number> parse) {
        if (s.isEmpty()) {
            return 0;
        }
        try {
            return parse.apply(s);
        } catch (NumberFormatException e) {
            throw new CompartException(ErrorKind.STORAGE, "lvs gave " + what + ": " + field, e);
        }
    }
}
