package compart.core.store;

import compart.core.model.Inventory;
import compart.core.model.Label;
import compart.core.model.Names;
import compart.core.model.PoolDefinition;
import compart.core.model.PropertyCatalog;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import compart.core.model.VolumeDefinition;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Element;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * Reads a Qubes OS {@code qubes.xml} (R4 format: {@code <labels>}, {@code <pools>}, {@code <properties>},
 * {@code <domains>} with per-domain properties, features, tags and volume-config) into an {@link Inventory}, so a
 * user can move an existing system over. Properties Compart does not know are skipped and reported; references
 * that do not resolve are reset (see {@link Inventory#repaired}). DTDs and external entities are refused.
 */
public final class QubesXmlImport {
    /**
     * What was imported.
     *
     * @param inventory the consistent inventory
     * @param notes     one line per property skipped or value repaired
     */
    public record Result(Inventory inventory, List<String> notes) {
    }

    private QubesXmlImport() {
    }

    /**
     * @param file          the qubes.xml
     * @param hostMemoryMib the host's memory (for defaults), 0 when unknown
     * @return the inventory and notes
     * @throws CompartException STORAGE when the file cannot be read, INVALID_VALUE when it is not a qubes.xml
     */
    public static Result read(Path file, long hostMemoryMib) {
        Element root;
        try {
            var f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            f.setXIncludeAware(false);
            var builder = f.newDocumentBuilder();
            builder.setErrorHandler(new DefaultHandler() {
                @Override
                public void fatalError(SAXParseException e) throws SAXException {
                    throw e;
                }
            });
            try (var in = Files.newInputStream(file)) {
                root = builder.parse(in).getDocumentElement();
            }
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot read " + file + ": " + e.getMessage(), e);
        } catch (SAXException | ParserConfigurationException e) {
            throw CompartException.invalidValue("%s is not well-formed XML: %s", file, e.getMessage());
        }
        if (!root.getTagName().equals("qubes")) {
            throw CompartException.invalidValue("%s is not a qubes.xml: its root element is <%s>", file,
                    root.getTagName());
        }
        var notes = new ArrayList<String>();
        var labels = new TreeMap<Integer, Label>();
        for (var l : children(child(root, "labels"), "label")) {
            int index = Integer.parseInt(l.getAttribute("id").replaceFirst("^label-", ""));
            String color = l.getAttribute("color").replace("#", "0x").toLowerCase(Locale.ROOT);
            labels.put(index, new Label(index, l.getTextContent().strip(), color));
        }
        var pools = new TreeMap<String, PoolDefinition>();
        for (var p : children(child(root, "pools"), "pool")) {
            var cfg = new TreeMap<String, String>();
            var attrs = p.getAttributes();
            for (int i = 0; i < attrs.getLength(); i++) {
                var a = attrs.item(i);
                if (!a.getNodeName().equals("name") && !a.getNodeName().equals("driver")) {
                    cfg.put(a.getNodeName(), a.getNodeValue());
                }
            }
            pools.put(p.getAttribute("name"), new PoolDefinition(p.getAttribute("name"), p.getAttribute("driver"), cfg));
        }
        // ids in refs (domain-N, label-N) resolve to names
        var domainNames = new TreeMap<String, String>();
        for (var d : children(child(root, "domains"), "domain")) {
            var props = properties(d, null, null);
            if (props.containsKey("name")) {
                domainNames.put(d.getAttribute("id"), props.get("name"));
            }
        }
        var globals = new TreeMap<String, String>();
        properties(root, domainNames, labels).forEach((k, v) -> {
            if (PropertyCatalog.global().containsKey(k)) {
                globals.put(k, v);
            } else {
                notes.add("global property " + k + " skipped: Compart does not have it");
            }
        });
        var qubes = new TreeMap<String, Qube>();
        for (var d : children(child(root, "domains"), "domain")) {
            QubeClass klass;
            try {
                klass = QubeClass.parse(d.getAttribute("class"));
            } catch (CompartException e) {
                notes.add("domain " + d.getAttribute("id") + " skipped: class " + d.getAttribute("class")
                        + " is not supported");
                continue;
            }
            var props = properties(d, domainNames, labels);
            String name = klass == QubeClass.AdminVM ? "dom0" : props.get("name");
            try {
                Names.qube(name);
                int qid = klass == QubeClass.AdminVM ? 0 : Integer.parseInt(props.get("qid"));
                var uuid = klass == QubeClass.AdminVM ? new UUID(0, 0)
                        : props.containsKey("uuid") ? UUID.fromString(props.get("uuid")) : UUID.randomUUID();
                int dispid = props.containsKey("dispid") ? Integer.parseInt(props.get("dispid")) : -1;
                var kept = new TreeMap<String, String>();
                var defs = PropertyCatalog.of(klass);
                props.forEach((k, v) -> {
                    var def = defs.get(k);
                    if (def != null && def.writable()) {
                        kept.put(k, switch (def.type()) {
                            case BOOL -> Boolean.parseBoolean(v) || v.equals("1") ? "True" : "False";
                            default -> v;
                        });
                    } else if (!List.of("name", "qid", "uuid", "dispid").contains(k)) {
                        notes.add("qube " + name + ": property " + k + " skipped");
                    }
                });
                if (klass == QubeClass.AppVM && props.containsKey("dispvm_allowed")) {
                    kept.put("template_for_dispvms", Boolean.parseBoolean(props.get("dispvm_allowed")) ? "True" : "False");
                }
                var features = new TreeMap<String, String>();
                for (var f : children(child(d, "features"), "feature")) {
                    features.put(f.getAttribute("name"), f.getTextContent());
                }
                var tags = new TreeSet<String>();
                for (var t : children(child(d, "tags"), "tag")) {
                    tags.add(t.getAttribute("name"));
                }
                var volumes = new TreeMap<String, VolumeDefinition>();
                for (var v : children(child(d, "volume-config"), "volume")) {
                    String vn = v.getAttribute("name");
                    volumes.put(vn, new VolumeDefinition(vn, v.getAttribute("pool"), v.getAttribute("vid"),
                            v.getAttribute("size").isEmpty() ? 0 : Long.parseLong(v.getAttribute("size")),
                            isTrue(v.getAttribute("rw")), isTrue(v.getAttribute("snap_on_start")),
                            isTrue(v.getAttribute("save_on_stop")), v.getAttribute("source"),
                            v.getAttribute("revisions_to_keep").isEmpty() ? 0
                                    : Integer.parseInt(v.getAttribute("revisions_to_keep")),
                            isTrue(v.getAttribute("ephemeral"))));
                }
                qubes.put(name, new Qube(klass, name, qid, uuid, dispid, kept, features, tags, "",
                        List.of("action=accept"), volumes));
            } catch (RuntimeException e) {
                notes.add("domain " + d.getAttribute("id") + " (" + name + ") skipped: " + e.getMessage());
            }
        }
        if (!qubes.containsKey("dom0")) {
            qubes.put("dom0", Inventory.initial(List.of(), 0).qube("dom0"));
        }
        var raw = new Inventory(labels.isEmpty() ? Inventory.defaultLabels() : labels, globals, qubes, pools,
                hostMemoryMib);
        return new Result(raw.repaired(notes), notes);
    }

    private static boolean isTrue(String s) {
        return s.equalsIgnoreCase("true") || s.equals("1");
    }

    private static TreeMap<String, String> properties(Element owner, TreeMap<String, String> domains,
                                                      TreeMap<Integer, Label> labels) {
        var out = new TreeMap<String, String>();
        for (var p : children(child(owner, "properties"), "property")) {
            String value;
            if (p.hasAttribute("ref")) {
                String ref = p.getAttribute("ref");
                if (ref.startsWith("label-") && labels != null) {
                    var l = labels.get(Integer.parseInt(ref.substring(6)));
                    value = l == null ? ref : l.name();
                } else if (domains != null && domains.containsKey(ref)) {
                    value = domains.get(ref);
                } else {
                    value = ref;
                }
            } else {
                value = p.getTextContent();
            }
            if (p.getAttribute("name").equals("label") && value.startsWith("label-") && labels != null) {
                var l = labels.get(Integer.parseInt(value.substring(6)));
                value = l == null ? value : l.name();
            }
            out.put(p.getAttribute("name"), value);
        }
        return out;
    }

    private static Element child(Element parent, String tag) {
        if (parent == null) {
            return null;
        }
        for (var n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(tag)) {
                return e;
            }
        }
        return null;
    }

    private static List<Element> children(Element parent, String tag) {
        var out = new ArrayList<Element>();
        if (parent == null) {
            return out;
        }
        for (var n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(tag)) {
                out.add(e);
            }
        }
        return out;
    }
}
