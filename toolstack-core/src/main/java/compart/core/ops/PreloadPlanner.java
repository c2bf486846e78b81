package compart.core.ops;

import compart.core.model.Inventory;
import compart.core.model.Prop;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import compart.errors.CompartException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The decisions on preloaded disposables (Qubes 4.3), pure functions of the inventory and the figures given: how many
 * a disposable template wants, which of its recorded ones to drop, how many to make now that the free memory allows,
 * which are stale after a restart, and whether a {@code preload-dispvm*} feature may take a value.
 *
 * <p>The features, as Qubes keeps them:
 * <ul>
 *   <li>{@value #MAX} on a disposable template: how many of its disposables to keep booted and paused; on dom0, the
 *       number for the global {@code default_dispvm} (it then wins over the template's own);</li>
 *   <li>{@value #LIST} on the template: the names of its preloaded disposables, oldest first, space separated
 *       (kept by compartd; the Admin API refuses to change it);</li>
 *   <li>{@value #DELAY} on the template, else dom0 (default 3): seconds between a preloaded disposable's use and
 *       the refill; negative: no refill while any is left;</li>
 *   <li>{@value #THRESHOLD} on dom0: MiB of available memory preloading leaves alone;</li>
 *   <li>on each preloaded disposable: {@value #IN_PROGRESS} (set while it is made and while it is handed out),
 *       {@value #COMPLETED} (it was started and paused) and {@code internal} (hidden from GUI tools until used).</li>
 * </ul>
 * The {@code is_preload} property of a disposable is true while it is in its template's list or being handed out.
 */
public final class PreloadPlanner {
    /** How many to keep. */
    public static final String MAX = "preload-dispvm-max";
    /** The preloaded ones' names. */
    public static final String LIST = "preload-dispvm";
    /** Seconds from a use to its refill. */
    public static final String DELAY = "preload-dispvm-delay";
    /** MiB left alone (dom0 only). */
    public static final String THRESHOLD = "preload-dispvm-threshold";
    static final String IN_PROGRESS = "preload-dispvm-in-progress";
    static final String COMPLETED = "preload-dispvm-completed";
    static final String READY_SERVICE = "qubes.WaitForRunningSystem";
    private static final double DEFAULT_DELAY = 3;
    private static final long MIB = 1024 * 1024;

    private PreloadPlanner() {
    }

    /**
     * What to do for one disposable template.
     *
     * @param keep             the list after the change (absent names and the excess dropped)
     * @param remove           recorded disposables to remove (the excess over the maximum)
     * @param create           how many to preload now
     * @param skippedForMemory how many more the maximum asks for but the available memory does not allow
     */
    public record Plan(List<String> keep, List<String> remove, int create, int skippedForMemory) {
    }

    /**
     * Plans the queue of {@code template}: the recorded names of qubes that no longer exist are dropped; beyond the
     * maximum, the newest are removed; below it, as many are made as the available memory less the threshold holds
     * at the template's {@code memory} each (Qubes: {@code qmemman-avail-mem}).
     *
     * @param availableBytes the memory broker's available memory
     */
    public static Plan plan(Inventory inv, Qube template, long availableBytes) {
        var recorded = preloads(template);
        var present = recorded.stream().filter(n -> inv.find(n).isPresent()).toList();
        int max = max(inv, template);
        var keep = present.subList(0, Math.min(max, present.size()));
        var remove = present.subList(keep.size(), present.size());
        int want = max - keep.size();
        if (want <= 0) {
            return new Plan(List.copyOf(keep), List.copyOf(remove), 0, 0);
        }
        long each = Math.max(1, inv.value(template, Prop.MEMORY)) * MIB;
        long usable = Math.max(0, availableBytes - thresholdBytes(inv));
        int can = (int) Math.min(want, usable / each);
        return new Plan(List.copyOf(keep), List.copyOf(remove), can, want - can);
    }

    /** @return the names in the template's {@value #LIST} feature, in order */
    public static List<String> preloads(Qube template) {
        String v = template.features().getOrDefault(LIST, "");
        return v.isBlank() ? List.of() : List.of(v.trim().split(" +"));
    }

    /** @return the template's {@value #LIST} feature value for {@code names} */
    static String listValue(Collection<String> names) {
        return String.join(" ", names);
    }

    /** @return {@code inv} with {@code names} taken out of the template's list (nothing when none was in it) */
    static Inventory withoutPreloads(Inventory inv, String template, Collection<String> names) {
        var t = inv.find(template);
        if (t.isEmpty()) {
            return inv;
        }
        var before = preloads(t.get());
        var after = before.stream().filter(n -> !names.contains(n)).toList();
        return after.size() == before.size() ? inv : inv.withFeature(template, LIST, listValue(after));
    }

    /** @return whether the qube may have preloaded disposables: an AppVM with {@code template_for_dispvms} */
    public static boolean isDisposableTemplate(Inventory inv, Qube q) {
        return q.klass() == QubeClass.AppVM && inv.value(q, Prop.TEMPLATE_FOR_DISPVMS);
    }

    /** @return whether {@code template} is the global {@code default_dispvm} and dom0 has {@value #MAX} */
    static boolean globalSet(Inventory inv, Qube template) {
        return inv.globalValue(Prop.Global.DEFAULT_DISPVM).filter(template.name()::equals).isPresent()
                && inv.qube("dom0").features().containsKey(MAX);
    }

    /** @return how many the template is to keep: 0 unless a disposable template; dom0's number when global */
    public static int max(Inventory inv, Qube template) {
        if (!isDisposableTemplate(inv, template)) {
            return 0;
        }
        String v = globalSet(inv, template) ? inv.qube("dom0").features().get(MAX) : template.features().get(MAX);
        return digits(v);
    }

    /** @return the delay before a refill, seconds: the template's feature, else dom0's, else 3 */
    public static double delay(Inventory inv, Qube template) {
        String v = inv.checkFeature(template, DELAY, false, false, true).orElse(Double.toString(DEFAULT_DELAY));
        try {
            return v.isEmpty() ? 0 : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            return DEFAULT_DELAY;
        }
    }

    /** @return dom0's {@value #THRESHOLD}, bytes */
    static long thresholdBytes(Inventory inv) {
        return digits(inv.qube("dom0").features().get(THRESHOLD)) * MIB;
    }

    private static int digits(String v) {
        if (v == null || v.isEmpty() || !v.chars().allMatch(Character::isDigit)) {
            return 0;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    /** @return whether a boolean feature is set true as Qubes stores it (any non-empty value) */
    static boolean on(Qube q, String feature) {
        return !q.features().getOrDefault(feature, "").isEmpty();
    }

    /** @return the disposable templates that may want preloads: those with a list or a maximum (or all if global) */
    public static List<Qube> templates(Inventory inv) {
        return inv.qubes().values().stream().filter(q -> q.klass() == QubeClass.AppVM)
                .filter(q -> q.features().containsKey(LIST) || max(inv, q) > 0).toList();
    }

    /** @return the disposables of {@code template} */
    static List<Qube> disposablesOf(Inventory inv, String template) {
        return inv.qubes().values().stream().filter(q -> q.klass() == QubeClass.DispVM)
                .filter(q -> inv.value(q, Prop.TEMPLATE).filter(template::equals).isPresent()).toList();
    }

    /**
     * The preloaded disposables a daemon start finds broken (Qubes' {@code on_domain_loaded} of a disposable
     * template): those still being made or handed out when the daemon stopped, and those completed whose domain is
     * gone. The names of the list whose qube is gone are dropped by {@link #plan}.
     *
     * @param running whether a qube has a domain
     * @return their names
     */
    public static List<String> stale(Inventory inv, Qube template, Predicate<String> running) {
        var out = new LinkedHashSet<String>();
        for (var d : disposablesOf(inv, template.name())) {
            if (on(d, IN_PROGRESS) || on(d, COMPLETED) && !running.test(d.name())) {
                out.add(d.name());
            }
        }
        return new ArrayList<>(out);
    }

    /**
     * Qubes' checks of a {@code preload-dispvm*} feature before it is set, in its words; other features pass.
     *
     * @param inv     the inventory the feature is set in
     * @param qube    the qube it is set on
     * @param feature its name
     * @param value   its new value
     * @throws CompartException INVALID_VALUE (Qubes' QubesValueError)
     */
    public static void validateFeature(Inventory inv, String qube, String feature, String value) {
        var q = inv.qube(qube);
        boolean dom0 = q.klass() == QubeClass.AdminVM;
        boolean templateClass = q.klass() == QubeClass.AppVM || q.klass() == QubeClass.StandaloneVM;
        Optional<String> old = Optional.ofNullable(q.features().get(feature));
        switch (feature) {
            case MAX -> {
                if (dom0) {
                    if (old.filter(value::equals).isPresent()) {
                        return;
                    }
                    var target = inv.globalValue(Prop.Global.DEFAULT_DISPVM).flatMap(inv::find);
                    if (target.isPresent()) {
                        checkMax(inv, target.get(), value);
                    }
                } else if (templateClass) {
                    checkMax(inv, q, value);
                }
            }
            case THRESHOLD -> {
                if (dom0 && !(value.isEmpty() ? "0" : value).chars().allMatch(Character::isDigit)) {
                    throw CompartException.invalidValue("Invalid preload-dispvm-threshold value: not a digit");
                }
            }
            case DELAY -> {
                if ((dom0 || templateClass) && old.filter(value::equals).isEmpty()) {
                    try {
                        Double.parseDouble(value.isEmpty() ? "0" : value);
                    } catch (NumberFormatException e) {
                        throw CompartException.invalidValue("Invalid preload-dispvm-delay value: not an integer or "
                                + "float");
                    }
                }
            }
            default -> {
            }
        }
    }

    private static void checkMax(Inventory inv, Qube q, String value) {
        if (!isTrue(inv.checkFeature(q, "qrexec", true, false, false))) {
            throw CompartException.invalidValue("Qube does not support qrexec");
        }
        if (!isTrue(inv.checkFeature(q, "supported-rpc." + READY_SERVICE, true, false, false))) {
            throw CompartException.invalidValue("Qube does not support the RPC '%s'", READY_SERVICE);
        }
        if (!(value.isEmpty() ? "0" : value).chars().allMatch(Character::isDigit)) {
            throw CompartException.invalidValue("Invalid preload-dispvm-max value: not a digit");
        }
    }

    private static boolean isTrue(Optional<String> v) {
        return v.filter(s -> !s.isEmpty()).isPresent();
    }

}
