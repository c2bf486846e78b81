package compart.core.backup;

import compart.core.model.Inventory;
import compart.core.model.Label;
import compart.core.model.PoolDefinition;
import compart.core.model.Qube;
import compart.core.model.VolumeDefinition;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The {@code qubes.xml} a backup carries, rendered from Compart's inventory in Qubes' R4 layout: labels, pools,
 * global properties and every qube (as Qubes copies its whole qubes.xml), the qubes in the backup marked with the
 * features {@code backup-content} ({@code 1}), {@code backup-path} ({@code vmN/}) and {@code backup-size}; the
 * others with an empty {@code backup-content}, as Qubes' {@code False}. Stateless.
 */
public final class BackupQubesXml {

    private BackupQubesXml() {
    }

    /**
     * @param inv the inventory
     * @param sizes the qubes in the backup, by name, with the bytes of their files
     * @return the file's bytes, UTF-8
     */
    public static byte[] render(Inventory inv, Map<String, Long> sizes) {
        StringBuilder x = new StringBuilder("<?xml version='1.0' encoding='UTF-8'?>\n<qubes version=\"3.0\">\n");
        x.append("  <labels>\n");
        for (Label l : inv.labels().values()) {
            x.append("    <label id=\"label-").append(l.index()).append("\" color=\"").append(esc(l.color()))
                    .append("\">").append(esc(l.name())).append("</label>\n");
        }
        x.append("  </labels>\n  <pools>\n");
        for (PoolDefinition p : inv.pools().values()) {
            x.append("    <pool name=\"").append(esc(p.name())).append("\" driver=\"").append(esc(p.driver()))
                    .append('"');
            p.config().forEach((k, v) -> x.append(' ').append(esc(k)).append("=\"").append(esc(v)).append('"'));
            x.append("/>\n");
        }
        x.append("  </pools>\n  <properties>\n");
        inv.globals().forEach((k, v) -> property(x, "    ", k, v));
        x.append("  </properties>\n  <domains>\n");
        for (Qube q : inv.qubes().values()) {
            x.append("    <domain id=\"domain-").append(q.qid()).append("\" class=\"").append(q.klass())
                    .append("\">\n      <properties>\n");
            property(x, "        ", "qid", Integer.toString(q.qid()));
            property(x, "        ", "name", q.name());
            property(x, "        ", "uuid", q.uuid().toString());
            q.properties().forEach((k, v) -> {
                if (!k.equals("qid") && !k.equals("name") && !k.equals("uuid")) {
                    property(x, "        ", k, v);
                }
            });
            x.append("      </properties>\n      <features>\n");
            q.features().forEach((k, v) -> {
                if (!k.startsWith("backup-")) {
                    feature(x, k, v);
                }
            });
            Long size = sizes.get(q.name());
            feature(x, "backup-content", size != null ? "1" : "");
            if (size != null) {
                feature(x, "backup-path", "vm" + q.qid() + "/");
                feature(x, "backup-size", Long.toString(size));
            }
            x.append("      </features>\n      <tags>\n");
            q.tags().forEach(t -> x.append("        <tag name=\"").append(esc(t)).append("\"/>\n"));
            x.append("      </tags>\n      <volume-config>\n");
            for (VolumeDefinition v : q.volumes().values()) {
                x.append("        <volume name=\"").append(esc(v.name())).append("\" pool=\"").append(esc(v.pool()))
                        .append("\" vid=\"").append(esc(v.vid())).append("\" size=\"").append(v.size())
                        .append("\" rw=\"").append(py(v.rw())).append("\" save_on_stop=\"").append(py(v.saveOnStop()))
                        .append("\" snap_on_start=\"").append(py(v.snapOnStart()))
                        .append("\" revisions_to_keep=\"").append(v.revisionsToKeep())
                        .append("\" ephemeral=\"").append(py(v.ephemeral())).append("\"");
                if (v.source() != null && !v.source().isEmpty()) {
                    x.append(" source=\"").append(esc(v.source())).append('"');
                }
                x.append("/>\n");
            }
            x.append("      </volume-config>\n    </domain>\n");
        }
        x.append("  </domains>\n</qubes>\n");
        return x.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void property(StringBuilder x, String indent, String name, String value) {
        x.append(indent).append("<property name=\"").append(esc(name)).append("\">").append(esc(value))
                .append("</property>\n");
    }

    private static void feature(StringBuilder x, String name, String value) {
        x.append("        <feature name=\"").append(esc(name)).append('"');
        if (value.isEmpty()) {
            x.append("/>\n");
        } else {
            x.append('>').append(esc(value)).append("</feature>\n");
        }
    }

    private static String py(boolean b) {
        return b ? "True" : "False";
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
