package compart.core.backup;

import compart.errors.CompartException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;

/**
 * What a backup's {@code qubes.xml} says about the qubes in it: which are in the backup ({@code backup-content}, any
 * non-empty value as Qubes reads it),
 * under which path ({@code backup-path}) and with which volumes. Parsed without DTDs or entities; every path is
 * checked to stay inside the backup's own {@code vmN/} directories and every volume id inside its pool.
 *
 * @param qubes the qubes whose content the backup carries
 */
public record BackupManifest(List<BackedUpQube> qubes) {

    private static final Pattern BACKUP_PATH = Pattern.compile("vm[0-9]+/");
    private static final Pattern VOLUME_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,31}");

    /** Copies the list. */
    public BackupManifest {
        qubes = List.copyOf(qubes);
    }

    /**
     * One qube with content in the backup.
     *
     * @param name its name
     * @param klass its class ({@code AppVM}, {@code TemplateVM}...)
     * @param backupPath its directory in the backup, {@code vmN/}
     * @param volumes the names of its volumes with {@code save_on_stop} (backed up as {@code NAME.img})
     */
    public record BackedUpQube(String name, String klass, String backupPath, List<String> volumes) {
        /** Copies the list. */
        public BackedUpQube {
            volumes = List.copyOf(volumes);
        }
    }

    /**
     * The qube a file of the backup belongs to, if any.
     *
     * @param fileName e.g. {@code vm3/private.img}
     */
    public BackedUpQube owner(String fileName) {
        for (BackedUpQube q : qubes) {
            if (fileName.startsWith(q.backupPath()) && fileName.indexOf('/', q.backupPath().length()) < 0) {
                return q;
            }
        }
        return null;
    }

    /**
     * Parses and checks a backup's qubes.xml.
     *
     * @throws CompartException INVALID_VALUE when it is not well-formed, names a backup path other than
     *         {@code vmN/} or a volume id that leaves its pool
     */
    public static BackupManifest parse(byte[] untrusted) {
        Element root;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            f.setXIncludeAware(false);
            root = f.newDocumentBuilder().parse(new ByteArrayInputStream(untrusted)).getDocumentElement();
        } catch (IOException | SAXException | ParserConfigurationException e) {
            throw CompartException.invalidValue("the backup's qubes.xml is not well-formed XML: %s", e.getMessage());
        }
        if (!root.getTagName().equals("qubes")) {
            throw CompartException.invalidValue("the backup's qubes.xml has root <%s>, not <qubes>", root.getTagName());
        }
        List<BackedUpQube> qubes = new ArrayList<>();
        for (Element d : children(child(root, "domains"), "domain")) {
            String name = named(child(d, "properties"), "property", "name");
            String content = named(child(d, "features"), "feature", "backup-content");
            if (content == null || content.isEmpty()) {
                continue;
            }
            String path = named(child(d, "features"), "feature", "backup-path");
            if (path == null || !BACKUP_PATH.matcher(path).matches()) {
                throw CompartException.invalidValue("the backup's qubes.xml gives qube %s the backup path '%s',"
                        + " outside the backup's vmN/ directories: refused", name, path);
            }
            List<String> volumes = new ArrayList<>();
            for (Element v : children(child(d, "volume-config"), "volume")) {
                String volume = v.getAttribute("name");
                String vid = v.getAttribute("vid");
                if (!VOLUME_NAME.matcher(volume).matches()) {
                    throw CompartException.invalidValue("the backup's qubes.xml names a volume '%s' of qube %s:"
                            + " not a volume name", volume, name);
                }
                if (vid.startsWith("/") || ("/" + vid + "/").contains("/../")) {
                    throw CompartException.invalidValue("the backup's qubes.xml gives volume %s of qube %s the id"
                            + " '%s', outside its pool: refused", volume, name, vid);
                }
                if ("True".equalsIgnoreCase(v.getAttribute("save_on_stop"))) {
                    volumes.add(volume);
                }
            }
            qubes.add(new BackedUpQube(name, d.getAttribute("class"), path, volumes));
        }
        return new BackupManifest(qubes);
    }

    private static String named(Element parent, String tag, String name) {
        for (Element e : children(parent, tag)) {
            if (name.equals(e.getAttribute("name"))) {
                return e.getTextContent().strip();
            }
        }
        return null;
    }

    private static Element child(Element parent, String tag) {
        List<Element> found = children(parent, tag);
        return found.isEmpty() ? null : found.getFirst();
    }

    private static List<Element> children(Element parent, String tag) {
        List<Element> found = new ArrayList<>();
        if (parent == null) {
            return found;
        }
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(tag)) {
                found.add(e);
            }
        }
        return found;
    }
}
