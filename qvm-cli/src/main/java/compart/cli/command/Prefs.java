package compart.cli.command;

import compart.cli.client.AdminClient;
import compart.cli.client.Property;
import compart.cli.client.Reply;
import compart.cli.format.JsonText;
import compart.cli.format.Wrap;
import compart.errors.CompartException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What qvm-prefs and qubes-prefs share (Qubes' {@code process_actions}): list every property ({@code NAME  D|-|U
 * VALUE}), get one, set one, reset one ({@code --default}), or list their help ({@code --help-properties}).
 * {@code qube == null} means the global properties.
 */
final class Prefs {
    /** vm properties where the word "none" means no qube, as in Qubes. */
    private static final Set<String> NONE_MEANS_EMPTY = Set.of("default_dispvm", "netvm", "template", "guivm",
            "audiovm");

    private Prefs() {}

    static int run(QvmCommand command, String qube, String property, String value, boolean reset,
                   boolean helpProperties, boolean hideDefault, boolean json) {
        AdminClient client = command.client();
        PrintWriter out = command.out();
        if (helpProperties) {
            List<String> names = client.propertyNames(qube).stream().sorted().toList();
            int width = names.stream().mapToInt(String::length).max().orElse(0);
            for (String name : names) {
                String help = client.propertyHelp(qube, name);
                out.println(Wrap.fill(String.format("%-" + width + "s  %s", name, help), 80, "  ",
                        " ".repeat(width + 6)));
            }
            return 0;
        }
        if (property == null) {
            if (reset) {
                throw command.usage("--default requires a property");
            }
            return list(client.properties(qube), hideDefault, json, out);
        }
        String name = property.replace('-', '_');
        if (value != null) {
            if (reset) {
                throw command.usage("argument --default: not allowed with argument VALUE");
            }
            String sent = value.equalsIgnoreCase("none") && NONE_MEANS_EMPTY.contains(name) ? "" : value;
            check(command, client.setProperty(qube, name, sent), name);
            return 0;
        }
        if (reset) {
            check(command, client.resetProperty(qube, name), name);
            return 0;
        }
        Reply reply = client.property(qube, name);
        check(command, reply, name);
        Property p = Property.parse(reply.text());
        if (hideDefault && p.isDefault()) {
            return 0;
        }
        if (json) {
            out.println(JsonText.write(toJson(p)));
        } else if (p.isUnset()) {
            throw CompartException.notFound("property '%s' of %s has no value", name,
                    qube == null ? "the system" : qube);
        } else if (!p.isNone()) {
            out.println(p.value());
        }
        return 0;
    }

    private static void check(QvmCommand command, Reply reply, String name) {
        if (reply instanceof Reply.Failure f && f.is("QubesNoSuchPropertyError")) {
            throw command.usage("no such property: '" + name + "'");
        }
        reply.orThrow();
    }

    private static int list(Map<String, Property> properties, boolean hideDefault, boolean json, PrintWriter out) {
        if (json) {
            Map<String, Object> all = new LinkedHashMap<>();
            properties.forEach((name, p) -> {
                if (!(hideDefault && p.isDefault())) {
                    all.put(name, toJson(p));
                }
            });
            out.println(JsonText.write(all));
            return 0;
        }
        int width = properties.keySet().stream().mapToInt(String::length).max().orElse(0);
        properties.forEach((name, p) -> {
            String padded = String.format("%-" + width + "s", name);
            if (p.isUnset()) {
                out.println(padded + "  U");
            } else if (!p.isDefault()) {
                out.println(padded + "  -  " + shown(p));
            } else if (!hideDefault) {
                out.println(padded + "  D  " + shown(p));
            }
        });
        return 0;
    }

    /** Qubes prints a missing vm or label as Python's None. */
    private static String shown(Property p) {
        return p.isNone() ? "None" : p.value();
    }

    private static Map<String, Object> toJson(Property p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("default", p.isDefault());
        m.put("type", p.type());
        Object value = p.isUnset() || p.isNone() ? null : switch (p.type()) {
            case "int" -> parseLong(p.value());
            case "bool" -> p.value().equals("True");
            default -> p.value();
        };
        m.put("value", value);
        return m;
    }

    private static Object parseLong(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return s;
        }
    }
}
