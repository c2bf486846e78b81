package compart.xl.libxl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pure functions between Compart's config records and libxl's JSON (the format of
 * {@code libxl_domain_config_from_json}, {@code libxl_device_disk_from_json}, {@code libxl_device_nic_from_json}).
 *
 * <p>Keys are the IDL field names of {@code libxl_types.idl}; enums are lower-case strings; the build-info keyed
 * union is written as {@code "type.pvh"} / {@code "type.hvm"}; {@code libxl_defbool}s as {@code "True"}/{@code "False"}.
 * Output is deterministic (fixed key order, two-space indentation) so it can be compared with golden files.
 *
 * <p>{@link #droppedFields} compares what was sent with what libxl's {@code to_json} gives back: libxl ignores
 * unknown keys and keys whose JSON type is wrong without any error, and leaves out fields at their default.
 * Thread-safe (stateless).
 */
public final class LibxlJson {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final ObjectWriter WRITER;

    static {
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter(Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                .withObjectEmptySeparator("")
                .withArrayEmptySeparator(""));
        printer.indentArraysWith(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"));
        printer.indentObjectsWith(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"));
        WRITER = MAPPER.writer(printer);
    }

    /** Top-level action fields whose libxl default is {@code destroy} (absent from {@code to_json} output). */
    private static final Set<String> DESTROY_BY_DEFAULT = Set.of("/on_poweroff", "/on_reboot", "/on_crash", "/on_watchdog");

    private LibxlJson() {
    }

    /** @return the libxl JSON for {@code config}, for {@code libxl_domain_config_from_json} */
    public static String domainConfig(DomainConfig config) {
        return write(domainConfigNode(config));
    }

    /** @return the libxl JSON for one disk, for {@code libxl_device_disk_from_json} (hot-plug) */
    public static String disk(DiskConfig disk) {
        return write(diskNode(disk));
    }

    /** @return the libxl JSON for one NIC, for {@code libxl_device_nic_from_json} (hot-plug) */
    public static String nic(NicConfig nic) {
        return write(nicNode(nic));
    }

    static ObjectNode domainConfigNode(DomainConfig config) {
        ObjectNode root = NODES.objectNode();
        ObjectNode cInfo = root.putObject("c_info");
        cInfo.put("type", config.type().jsonName());
        cInfo.put("name", config.name());
        cInfo.put("uuid", config.uuid().toString());

        ObjectNode bInfo = root.putObject("b_info");
        bInfo.put("max_vcpus", config.vcpus());
        ArrayNode avail = bInfo.putArray("avail_vcpus");
        for (int i = 0; i < config.vcpus(); i++) {
            avail.add(i);
        }
        bInfo.put("max_memkb", config.maxMemoryKib());
        bInfo.put("target_memkb", config.memoryKib());
        switch (config.boot()) {
            case DomainConfig.Boot.Pvh pvh -> {
                bInfo.put("kernel", pvh.kernel().toString());
                pvh.ramdisk().ifPresent(r -> bInfo.put("ramdisk", r.toString()));
                if (!pvh.cmdline().isEmpty()) {
                    bInfo.put("cmdline", pvh.cmdline());
                }
                bInfo.putObject("type.pvh");
            }
            case DomainConfig.Boot.Hvm hvm -> {
                hvm.kernel().ifPresent(k -> bInfo.put("kernel", k.toString()));
                hvm.ramdisk().ifPresent(r -> bInfo.put("ramdisk", r.toString()));
                if (!hvm.cmdline().isEmpty()) {
                    bInfo.put("cmdline", hvm.cmdline());
                }
                bInfo.put("device_model_version", "qemu_xen");
                ObjectNode u = bInfo.putObject("type.hvm");
                u.put("bios", hvm.firmware().jsonName());
                u.putObject("vga").put("kind", hvm.vga().jsonName());
                ObjectNode vnc = u.putObject("vnc");
                vnc.put("enable", defbool(hvm.vncListen().isPresent()));
                hvm.vncListen().ifPresent(l -> vnc.put("listen", l));
                u.putObject("sdl").put("enable", defbool(false));
                hvm.serial().ifPresent(s -> u.put("serial", s));
                u.put("boot", hvm.bootOrder());
            }
        }
        if (!config.disks().isEmpty()) {
            ArrayNode disks = root.putArray("disks");
            config.disks().forEach(d -> disks.add(diskNode(d)));
        }
        if (!config.nics().isEmpty()) {
            ArrayNode nics = root.putArray("nics");
            config.nics().forEach(n -> nics.add(nicNode(n)));
        }
        root.put("on_poweroff", config.onPoweroff().jsonName());
        root.put("on_reboot", config.onReboot().jsonName());
        root.put("on_crash", config.onCrash().jsonName());
        return root;
    }

    static ObjectNode diskNode(DiskConfig disk) {
        ObjectNode node = NODES.objectNode();
        node.put("backend_domid", disk.backendDomid());
        node.put("pdev_path", disk.target().toString());
        node.put("vdev", disk.vdev());
        node.put("backend", disk.backend().jsonName());
        node.put("format", disk.format().jsonName());
        node.put("readwrite", disk.writable() ? 1 : 0);
        disk.script().ifPresent(script -> node.put("script", script.toString()));
        if (disk.cdrom()) {
            node.put("removable", 1);
            node.put("is_cdrom", 1);
        }
        return node;
    }

    static ObjectNode nicNode(NicConfig nic) {
        ObjectNode node = NODES.objectNode();
        node.put("backend_domid", nic.backendDomid());
        node.put("devid", nic.devid());
        nic.model().ifPresent(m -> node.put("model", m));
        node.put("mac", nic.mac());
        nic.ip().ifPresent(ip -> node.put("ip", ip));
        nic.bridge().ifPresent(b -> node.put("bridge", b));
        nic.script().ifPresent(s -> node.put("script", s));
        node.put("nictype", nic.type().jsonName());
        return node;
    }

    private static String defbool(boolean value) {
        return value ? "True" : "False";
    }

    private static String write(JsonNode node) {
        try {
            return WRITER.writeValueAsString(node) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise libxl JSON", e);
        }
    }

    /**
     * Lists the fields of {@code sent} that libxl did not keep, judged from {@code returned} (libxl's {@code to_json}
     * of what it parsed). A field that is absent from {@code returned} is fine when its value is libxl's default
     * (0, an empty object, {@code destroy} for the top-level shutdown actions); any other absent or changed value is
     * reported as {@code "<JSON pointer>: sent <value>, libxl kept <value or nothing>"}. Enum strings compare
     * case-insensitively, as libxl parses them.
     *
     * @throws IllegalArgumentException when either text is not JSON
     */
    public static List<String> droppedFields(String sent, String returned) {
        List<String> dropped = new ArrayList<>();
        compare("", parse(sent), parse(returned), dropped);
        return dropped;
    }

    private static JsonNode parse(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static void compare(String pointer, JsonNode sent, JsonNode kept, List<String> dropped) {
        if (sent.isObject()) {
            if (kept == null || kept.isMissingNode() || kept.isNull()) {
                if (!sent.isEmpty()) {
                    Iterator<Map.Entry<String, JsonNode>> fields = sent.properties().iterator();
                    while (fields.hasNext()) {
                        var field = fields.next();
                        compare(pointer + "/" + field.getKey(), field.getValue(), null, dropped);
                    }
                }
                return;
            }
            if (!kept.isObject()) {
                dropped.add(pointer + ": sent an object, libxl kept " + kept);
                return;
            }
            for (var field : sent.properties()) {
                compare(pointer + "/" + field.getKey(), field.getValue(), kept.get(field.getKey()), dropped);
            }
            return;
        }
        if (sent.isArray()) {
            if (kept == null || !kept.isArray()) {
                if (!sent.isEmpty()) {
                    dropped.add(pointer + ": sent " + sent + ", libxl kept " + (kept == null ? "nothing" : kept));
                }
                return;
            }
            if (sent.size() != kept.size()) {
                dropped.add(pointer + ": sent " + sent.size() + " elements, libxl kept " + kept.size());
                return;
            }
            for (int i = 0; i < sent.size(); i++) {
                compare(pointer + "/" + i, sent.get(i), kept.get(i), dropped);
            }
            return;
        }
        if (kept == null) {
            if (!isDefault(pointer, sent)) {
                dropped.add(pointer + ": sent " + sent + ", libxl kept nothing");
            }
            return;
        }
        boolean same = sent.isNumber() && kept.isNumber()
                ? sent.decimalValue().compareTo(kept.decimalValue()) == 0
                : sent.isTextual() && kept.isTextual()
                ? sent.asText().equalsIgnoreCase(kept.asText())
                : sent.equals(kept);
        if (!same) {
            dropped.add(pointer + ": sent " + sent + ", libxl kept " + kept);
        }
    }

    private static boolean isDefault(String pointer, JsonNode value) {
        if (value.isNumber()) {
            return value.decimalValue().signum() == 0;
        }
        return value.isTextual() && DESTROY_BY_DEFAULT.contains(pointer) && value.asText().equalsIgnoreCase("destroy");
    }
}
