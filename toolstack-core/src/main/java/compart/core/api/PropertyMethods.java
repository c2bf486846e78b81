package compart.core.api;

import static compart.core.api.AdminText.escape;
import static compart.core.api.AdminText.lines;
import static compart.core.api.AdminText.serialize;

import compart.core.model.Prop;
import compart.core.model.PropertyCatalog;
import compart.core.model.PropertyDef;
import compart.core.model.PropertyValue;
import compart.core.model.QubeClass;
import compart.core.ops.Toolstack;
import compart.errors.CompartException;
import java.util.Optional;

/** Qube properties ({@code admin.vm.property.*}) and global properties ({@code admin.property.*}). */
record PropertyMethods(Toolstack toolstack) {
    @Handles(value = "admin.vm.property.List", topic = Topic.PROPERTY)
    String vmPropertyList(Call c) {
        return lines(PropertyCatalog.listed(c.dest().klass()).stream());
    }

    @Handles(value = "admin.vm.property.Get", arg = Arg.REQUIRED, topic = Topic.PROPERTY)
    String vmPropertyGet(Call c) {
        return serialize(property(c, c.arg()));
    }

    @Handles(value = "admin.vm.property.GetAll", topic = Topic.PROPERTY)
    String vmPropertyGetAll(Call c) {
        return lines(PropertyCatalog.listed(c.dest().klass()).stream()
                .map(p -> p + " " + escape(serialize(property(c, p)))));
    }

    @Handles(value = "admin.vm.property.GetDefault", arg = Arg.REQUIRED, topic = Topic.PROPERTY)
    String vmPropertyGetDefault(Call c) {
        var def = definition(c);
        // As Qubes: a property whose default is none answers its type and an empty value; one without any
        // default answers nothing.
        if (!PropertyCatalog.hasDefault(c.dest().klass(), c.arg())) {
            return null;
        }
        return "type=" + def.type().wireName() + " " + c.inv().defaultValue(c.dest(), c.arg()).orElse("");
    }

    @Handles(value = "admin.vm.property.Set", arg = Arg.REQUIRED, payload = Payload.OPTIONAL, topic = Topic.PROPERTY)
    void vmPropertySet(Call c) {
        String value = c.payloadAscii();
        String name = c.destName();
        if (c.arg().equals("template") && c.dest().klass() != QubeClass.AdminVM) {
            toolstack.changeWhileHalted(name, "Cannot change template while qube is running",
                    inv -> inv.withProperty(name, c.arg(), value)).join();
        } else if (c.arg().equals(Prop.TEMPLATE_FOR_DISPVMS.name())) {
            toolstack.changeDisposableTemplate(name,
                    inv -> inv.withProperty(name, c.arg(), value));
        } else {
            toolstack.change(inv -> inv.withProperty(name, c.arg(), value));
        }
    }

    /** Resets the property to its default (a disposable template's preloads go first, as for a set to False). */
    @Handles(value = "admin.vm.property.Reset", arg = Arg.REQUIRED, topic = Topic.PROPERTY)
    void vmPropertyReset(Call c) {
        String name = c.destName();
        if (c.arg().equals(Prop.TEMPLATE_FOR_DISPVMS.name())) {
            toolstack.changeDisposableTemplate(name,
                    inv -> inv.withPropertyReset(name, c.arg()));
        } else {
            toolstack.change(inv -> inv.withPropertyReset(name, c.arg()));
        }
    }

    @Handles(value = "admin.vm.property.Help", arg = Arg.REQUIRED, topic = Topic.PROPERTY)
    String vmPropertyHelp(Call c) {
        var def = definition(c);
        return def.help();
    }

    @Handles(value = "admin.property.List", dest = Dest.ADMIN, topic = Topic.GLOBAL_PROPERTY)
    String propertyList(Call c) {
        return lines(PropertyCatalog.global().keySet().stream().sorted());
    }

    @Handles(value = "admin.property.Get", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.GLOBAL_PROPERTY)
    String propertyGet(Call c) {
        return serialize(c.inv().globalProperty(c.arg()));
    }

    @Handles(value = "admin.property.GetAll", dest = Dest.ADMIN, topic = Topic.GLOBAL_PROPERTY)
    String propertyGetAll(Call c) {
        return lines(PropertyCatalog.global().keySet().stream().sorted()
                .map(p -> p + " " + escape(serialize(c.inv().globalProperty(p)))));
    }

    @Handles(value = "admin.property.GetDefault", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.GLOBAL_PROPERTY)
    String propertyGetDefault(Call c) {
        var pv = c.inv().globalProperty(c.arg());
        if (!PropertyCatalog.globalHasDefault(c.arg())) {
            return null;
        }
        return "type=" + pv.type().wireName() + " " + c.inv().globalDefaultValue(c.arg()).orElse("");
    }

    @Handles(value = "admin.property.Set", arg = Arg.REQUIRED, payload = Payload.OPTIONAL, dest = Dest.ADMIN,
            topic = Topic.GLOBAL_PROPERTY)
    void propertySet(Call c) {
        String value = c.payloadAscii();
        toolstack.change(inv -> inv.withGlobalProperty(c.arg(), value));
    }

    @Handles(value = "admin.property.Reset", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.GLOBAL_PROPERTY)
    void propertyReset(Call c) {
        toolstack.change(inv -> inv.withGlobalPropertyReset(c.arg()));
    }

    @Handles(value = "admin.property.Help", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.GLOBAL_PROPERTY)
    String propertyHelp(Call c) {
        var def = PropertyCatalog.global().get(c.arg());
        if (def == null) {
            throw CompartException.notFound("Invalid property '%s' of Qubes", AdminText.printable(c.arg()));
        }
        return def.help();
    }

    /** @return the definition of the qube's property the argument names; NOT_FOUND when it has none */
    private static PropertyDef definition(Call c) {
        var def = c.inv().propertyDefs(c.dest()).get(c.arg());
        if (def == null) {
            throw CompartException.notFound("Invalid property '%s' of %s", AdminText.printable(c.arg()),
                    c.destName());
        }
        return def;
    }

    /** A qube's property as the model has it, but {@code xid} from the live domain (stateless in Qubes). */
    private PropertyValue property(Call c, String name) {
        var v = c.inv().property(c.dest(), name);
        if (name.equals("xid") && c.dest().klass() != QubeClass.AdminVM) {
            var live = toolstack.live(c.destName());
            return new PropertyValue(name, v.type(), true,
                    Optional.of(live.map(l -> Integer.toString(l.domid())).orElse("-1")));
        }
        return v;
    }
}
