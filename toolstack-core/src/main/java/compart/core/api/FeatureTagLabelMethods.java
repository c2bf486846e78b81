package compart.core.api;

import static compart.core.api.AdminText.lines;

import compart.core.model.Label;
import compart.core.model.Names;
import compart.core.ops.Toolstack;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.util.Optional;

/** A qube's features ({@code admin.vm.feature.*}) and tags ({@code admin.vm.tag.*}), and the labels. */
final class FeatureTagLabelMethods {
    private final Toolstack toolstack;

    FeatureTagLabelMethods(Toolstack toolstack) {
        this.toolstack = toolstack;
    }

    @Handles(value = "admin.vm.feature.List", topic = Topic.FEATURE)
    String vmFeatureList(Call c) {
        return lines(c.dest().features().keySet().stream());
    }

    @Handles(value = "admin.vm.feature.Get", arg = Arg.REQUIRED, topic = Topic.FEATURE)
    String vmFeatureGet(Call c) {
        return feature(c, Optional.ofNullable(c.dest().features().get(c.arg())));
    }

    @Handles(value = "admin.vm.feature.CheckWithTemplate", arg = Arg.REQUIRED, topic = Topic.FEATURE)
    String vmFeatureCheckWithTemplate(Call c) {
        return feature(c, c.inv().checkFeature(c.dest(), c.arg(), true, false, false));
    }

    @Handles(value = "admin.vm.feature.CheckWithNetvm", arg = Arg.REQUIRED, topic = Topic.FEATURE)
    String vmFeatureCheckWithNetvm(Call c) {
        return feature(c, c.inv().checkFeature(c.dest(), c.arg(), false, true, false));
    }

    @Handles(value = "admin.vm.feature.CheckWithAdminVM", arg = Arg.REQUIRED, topic = Topic.FEATURE)
    String vmFeatureCheckWithAdminVm(Call c) {
        return feature(c, c.inv().checkFeature(c.dest(), c.arg(), false, false, true));
    }

    @Handles(value = "admin.vm.feature.CheckWithTemplateAndAdminVM", arg = Arg.REQUIRED, topic = Topic.FEATURE)
    String vmFeatureCheckWithTemplateAndAdminVm(Call c) {
        return feature(c, c.inv().checkFeature(c.dest(), c.arg(), true, false, true));
    }

    @Handles(value = "admin.vm.feature.Set", arg = Arg.REQUIRED, payload = Payload.OPTIONAL, topic = Topic.FEATURE)
    String vmFeatureSet(Call c) {
        String value = c.payloadAscii();
        if (!c.arg().matches("[a-zA-Z0-9_.-]+")) {
            throw new CompartException(ErrorKind.PROTOCOL, "feature name contains illegal characters");
        }
        toolstack.change(inv -> inv.withFeature(c.destName(), c.arg(), value));
        return null;
    }

    @Handles(value = "admin.vm.feature.Remove", arg = Arg.REQUIRED, topic = Topic.FEATURE)
    String vmFeatureRemove(Call c) {
        toolstack.change(inv -> inv.withFeature(c.destName(), c.arg(), null));
        return null;
    }

    @Handles(value = "admin.vm.tag.List", topic = Topic.TAG)
    String vmTagList(Call c) {
        return lines(c.dest().tags().stream());
    }

    @Handles(value = "admin.vm.tag.Get", arg = Arg.REQUIRED, topic = Topic.TAG)
    String vmTagGet(Call c) {
        Names.tag(c.arg());
        return c.dest().tags().contains(c.arg()) ? "1" : "0";
    }

    @Handles(value = "admin.vm.tag.Set", arg = Arg.REQUIRED, topic = Topic.TAG)
    String vmTagSet(Call c) {
        toolstack.change(inv -> inv.withTag(c.destName(), c.arg(), true));
        return null;
    }

    @Handles(value = "admin.vm.tag.Remove", arg = Arg.REQUIRED, topic = Topic.TAG)
    String vmTagRemove(Call c) {
        toolstack.change(inv -> inv.withTag(c.destName(), c.arg(), false));
        return null;
    }

    @Handles(value = "admin.label.List", dest = Dest.ADMIN, topic = Topic.LABEL)
    String labelList(Call c) {
        return lines(c.inv().labels().values().stream().map(Label::name));
    }

    @Handles(value = "admin.label.Get", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.LABEL)
    String labelGet(Call c) {
        Label.validateName(c.arg());
        return c.inv().label(c.arg()).color();
    }

    @Handles(value = "admin.label.Index", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.LABEL)
    String labelIndex(Call c) {
        Label.validateName(c.arg());
        return Integer.toString(c.inv().label(c.arg()).index());
    }

    @Handles(value = "admin.label.Create", arg = Arg.REQUIRED, payload = Payload.REQUIRED, dest = Dest.ADMIN,
            topic = Topic.LABEL)
    String labelCreate(Call c) {
        String color = c.payloadAscii();
        toolstack.change(inv -> inv.withLabel(c.arg(), color));
        return null;
    }

    @Handles(value = "admin.label.Remove", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.LABEL)
    String labelRemove(Call c) {
        toolstack.change(inv -> inv.withoutLabel(c.arg()));
        return null;
    }

    private static String feature(Call c, Optional<String> value) {
        return value.orElseThrow(() -> CompartException.notFound("Feature not set for domain %s: %s",
                c.destName(), AdminText.printable(c.arg())));
    }
}
