package compart.core.api;

import static compart.core.api.AdminText.lines;

import compart.core.model.Label;
import compart.core.model.Names;
import compart.core.ops.PreloadPlanner;
import compart.core.ops.Toolstack;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.errors.Refusal;
import java.util.Optional;
import java.util.Set;

/** A qube's features ({@code admin.vm.feature.*}) and tags ({@code admin.vm.tag.*}), and the labels. */
record FeatureTagLabelMethods(Toolstack toolstack) {
    @Handles(value = "admin.vm.feature.List", topic = Topic.FEATURE)
    String vmFeatureList(Call c) {
        return lines(c.dest().features().keySet().stream());
    }

    @Handles(value = "admin.vm.feature.Get", arg = Arg.REQUIRED, topic = Topic.FEATURE)
    String vmFeatureGet(Call c) {
        return feature(c, Optional.ofNullable(c.dest().features().get(c.arg())));
    }

    /**
     * The feature of the qube, else of what the method's name says, in this order: its template, its netvm, dom0
     * ({@code CheckWithTemplate}, {@code CheckWithNetvm}, {@code CheckWithAdminVM},
     * {@code CheckWithTemplateAndAdminVM}).
     */
    @Handles(value = {"admin.vm.feature.CheckWithTemplate", "admin.vm.feature.CheckWithNetvm",
            "admin.vm.feature.CheckWithAdminVM", "admin.vm.feature.CheckWithTemplateAndAdminVM"}, arg = Arg.REQUIRED,
            topic = Topic.FEATURE)
    String vmFeatureCheckWith(Call c) {
        String where = c.request().method().substring("admin.vm.feature.CheckWith".length());
        return feature(c, c.inv().checkFeature(c.dest(), c.arg(), where.startsWith("Template"),
                where.equals("Netvm"), where.endsWith("AdminVM")));
    }

    @Handles(value = "admin.vm.feature.Set", arg = Arg.OPTIONAL, payload = Payload.OPTIONAL, topic = Topic.FEATURE)
    void vmFeatureSet(Call c) {
        // Qubes' checks, in its order and words: the name, the value, then the features it keeps for itself.
        String value = c.payloadAscii();
        if (!c.arg().matches("[a-zA-Z0-9_.-]+")) {
            throw Refusal.MALFORMED_VALUE.exception("feature name contains illegal characters");
        }
        if (!value.matches("[\\x20-\\x7E]*")) {
            throw Refusal.MALFORMED_VALUE.exception("%s value contains illegal characters", c.arg());
        }
        reserved(c.arg());
        toolstack.change(inv -> {
            PreloadPlanner.validateFeature(inv, c.destName(), c.arg(), value);
            return inv.withFeature(c.destName(), c.arg(), value);
        });
    }

    @Handles(value = "admin.vm.feature.Remove", arg = Arg.REQUIRED, topic = Topic.FEATURE)
    void vmFeatureRemove(Call c) {
        reserved(c.arg());
        toolstack.change(inv -> inv.withFeature(c.destName(), c.arg(), null));
    }

    /** Features Qubes sets and clears by itself (preloaded disposables, a netvm kept while paused). */
    private static final Set<String> RESERVED = Set.of("deferred-netvm-original", "preload-dispvm",
            "preload-dispvm-completed", "preload-dispvm-in-progress");

    /** @throws CompartException PERMISSION_DENIED for a feature Qubes keeps for itself */
    private static void reserved(String feature) {
        if (RESERVED.contains(feature)) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "changing the feature " + feature
                    + " is prohibited: Qubes sets it by itself");
        }
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
    void vmTagSet(Call c) {
        toolstack.change(inv -> inv.withTag(c.destName(), c.arg(), true));
    }

    @Handles(value = "admin.vm.tag.Remove", arg = Arg.REQUIRED, topic = Topic.TAG)
    void vmTagRemove(Call c) {
        toolstack.change(inv -> inv.withTag(c.destName(), c.arg(), false));
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
    void labelCreate(Call c) {
        String color = c.payloadAscii();
        toolstack.change(inv -> inv.withLabel(c.arg(), color));
    }

    @Handles(value = "admin.label.Remove", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.LABEL)
    void labelRemove(Call c) {
        toolstack.change(inv -> inv.withoutLabel(c.arg()));
    }

    private static String feature(Call c, Optional<String> value) {
        return value.orElseThrow(() -> CompartException.notFound("Feature not set for domain %s: %s",
                c.destName(), AdminText.printable(c.arg())));
    }
}
