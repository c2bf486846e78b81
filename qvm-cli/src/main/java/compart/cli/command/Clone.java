package compart.cli.command;

import compart.cli.client.AdminClient;
import compart.cli.client.Property;
import compart.cli.client.QubeEntry;
import compart.cli.client.Reply;
import compart.cli.format.Progress;
import compart.errors.CompartException;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Cloning a qube through the Admin API, as qubesadmin's {@code clone_vm} does it: create the new qube with the
 * source's template and label, copy the explicitly set properties, the tags, features, notes and firewall, then
 * clone each {@code save_on_stop} volume ({@code CloneFrom} on the source gives a token, {@code CloneTo} on the
 * copy uses it). If anything fails the new qube is removed again (unless {@code ignoreErrors}, for metadata).
 */
final class Clone {
    private static final Set<String> NOT_COPIED = Set.of("name", "qid", "template", "label", "uuid",
            "installed_by_rpm");

    private Clone() {}

    static void clone(QvmCommand command, String source, String name, String klass, String label, String pool,
                      Map<String, String> pools, List<String> ignoreVolumes, boolean ignoreErrors) {
        if (pool != null && !pool.isEmpty() && !pools.isEmpty()) {
            throw command.usage("only one of -P and -p can be used");
        }
        AdminClient client = command.client();
        QubeEntry src = command.resolveOne(source);
        Map<String, Property> props = client.properties(src.name());
        String cls = klass == null ? src.klass() : klass;
        Property template = props.get("template");
        String templateName = template == null || template.value().isEmpty() ? null : template.value();
        if (cls.equals("StandaloneVM") || cls.equals("TemplateVM")) {
            templateName = null;
        }
        String newLabel = label != null ? label : props.get("label").value();
        client.create(cls, templateName, name, newLabel, pool, pools);
        var progress = new Progress(command.err(), command.verbosity() >= 1 && Progress.onTerminal());
        try {
            progress.show("copying the settings of " + src.name());
            copyMetadata(command, client, src.name(), name, props, ignoreErrors);
            for (String volume : client.volumes(name)) {
                if (ignoreVolumes.contains(volume)
                        || !"True".equals(client.volumeInfo(name, volume).get("save_on_stop"))
                        || !client.volumes(src.name()).contains(volume)) {
                    continue;
                }
                progress.show("cloning the " + volume + " volume of " + src.name());
                String token = client.call(src.name(), "admin.vm.volume.CloneFrom", volume, null).text().strip();
                client.call(name, "admin.vm.volume.CloneTo", volume, token).orThrow();
            }
        } catch (CompartException e) {
            progress.done();
            client.remove(name);
            throw e;
        } finally {
            progress.done();
        }
    }

    private static void copyMetadata(QvmCommand command, AdminClient client, String src, String dst,
                                     Map<String, Property> props, boolean ignoreErrors) {
        for (var e : props.entrySet()) {
            Property p = e.getValue();
            if (NOT_COPIED.contains(e.getKey()) || p.isDefault() || p.isUnset()) {
                continue;
            }
            check(command, client.setProperty(dst, e.getKey(), p.value()), "Failed to set " + e.getKey()
                    + " property", ignoreErrors);
        }
        for (String tag : client.tags(src)) {
            if (!tag.startsWith("created-by-")) {
                check(command, client.call(dst, "admin.vm.tag.Set", tag, null), "Failed to add " + tag + " tag",
                        ignoreErrors);
            }
        }
        for (String feature : client.featureNames(src)) {
            var value = client.feature(src, feature);
            if (value.isPresent()) {
                check(command, client.call(dst, "admin.vm.feature.Set", feature, value.get()),
                        "Failed to set " + feature + " feature", ignoreErrors);
            }
        }
        Reply notes = client.call(src, "admin.vm.notes.Get", null, null);
        if (notes instanceof Reply.Ok ok && ok.payload().length > 0) {
            check(command, client.socket().call(dst, "admin.vm.notes.Set", null, ok.payload()),
                    "Failed to clone qube notes", ignoreErrors);
        }
        Reply firewall = client.call(src, "admin.vm.firewall.Get", null, null);
        if (firewall instanceof Reply.Ok ok && ok.payload().length > 0) {
            check(command, client.socket().call(dst, "admin.vm.firewall.Set", null, ok.payload()),
                    "Failed to set firewall", ignoreErrors);
        }
    }

    private static void check(QvmCommand command, Reply reply, String what, boolean ignoreErrors) {
        if (reply instanceof Reply.Failure f) {
            if (!ignoreErrors) {
                throw new CompartException(f.kind(), what + ": " + f.message());
            }
            command.err().println(command.commandName() + ": " + what + ": " + f.message());
        }
    }
}
