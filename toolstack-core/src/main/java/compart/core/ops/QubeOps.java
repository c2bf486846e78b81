package compart.core.ops;

import compart.core.model.Label;
import compart.core.model.Names;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import compart.core.model.VolumeDefinition;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.errors.Refusal;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Creating qubes as the Admin API asks ({@code admin.vm.Create.*}, {@code admin.vm.CreateDisposable}) and the
 * firewall reload of {@code admin.vm.firewall.Reload}.
 *
 * <p>Thread safe (state lives in the {@link Toolstack}).
 */
public final class QubeOps {
    private static final List<String> VOLUMES = List.of("root", "private", "volatile", "kernel");

    private final Toolstack toolstack;
    private final SecureRandom random = new SecureRandom();

    /** @param toolstack the qubes */
    public QubeOps(Toolstack toolstack) {
        this.toolstack = toolstack;
    }

    /**
     * Creates a qube with its volumes, tagged {@code created-by-CREATOR}; a DispVM takes its template's settings.
     *
     * @param klass    its class (creatable)
     * @param name     its name, untrusted
     * @param label    its label name, untrusted
     * @param template its template, empty for the default
     * @param pools    {@code pool} (every volume) or {@code pool:VOLUME} to their pool names
     * @param creator  the qube that asked
     * @throws CompartException ALREADY_EXISTS (the name, also a qube whose entry cannot be read), PROTOCOL (a
     *                          template for a class without one, an unknown volume), STORAGE (no such pool), and
     *                          the inventory's refusals
     */
    public void createQube(QubeClass klass, String name, String label, Optional<String> template,
                           Map<String, String> pools, String creator) {
        Label.validateName(label);
        Names.qube(name);
        if (toolstack.broken().contains(name)) {
            throw new CompartException(ErrorKind.ALREADY_EXISTS, "Qube already exists: " + name + " (its stored "
                    + "entry cannot be read: see compartd's log)");
        }
        if (template.isPresent() && !klass.hasTemplate()) {
            throw new CompartException(ErrorKind.PROTOCOL, klass + " cannot be based on template");
        }
        var inv = toolstack.inventory();
        for (var e : pools.entrySet()) {
            if (e.getKey().startsWith("pool") && !inv.pools().containsKey(e.getValue())) {
                throw new CompartException(ErrorKind.STORAGE, "No such storage pool: " + e.getValue());
            }
            if (e.getKey().startsWith("pool:") && !VOLUMES.contains(e.getKey().substring(5))) {
                throw new CompartException(ErrorKind.PROTOCOL, "Volume must be one of: "
                        + String.join(", ", VOLUMES));
            }
        }
        toolstack.create(name, before -> {
            var after = before.withNewQube(klass, name, label, template, random);
            var q = after.qube(name);
            for (var v : q.volumes().values()) {
                String pool = pools.getOrDefault("pool:" + v.name(), pools.get("pool"));
                if (pool != null && !v.name().equals("kernel")) {
                    q = q.withVolume(new VolumeDefinition(v.name(), pool, v.vid(), v.size(), v.rw(), v.snapOnStart(),
                            v.saveOnStop(), v.source(), v.revisionsToKeep(), v.ephemeral()));
                }
            }
            q = q.withTag("created-by-" + creator, true);
            after = after.withQube(q);
            if (klass == QubeClass.DispVM) { // as Qubes' DispVM (the inventory checked template_for_dispvms)
                // takes its template's settings, but not what the call set itself (the label)
                // its template: the one asked, else the global default_dispvm the inventory gave it
                var base = after.templateOf(q).orElseThrow(() -> Refusal.NOT_DISPVM_TEMPLATE.exception(
                        "Refusing to create DispVM %s: no template given and no default_dispvm set", name));
                after = Disposables.inheritFromTemplate(after, name, base).withProperty(name, "label", label);
            }
            return after;
        });
    }

    /**
     * Gives a disposable: a preloaded one when there is one ready, else a new one (see {@link Disposables#obtain}).
     *
     * @param base    the disposable template; empty when the caller has no {@code default_dispvm}
     * @param creator the qube that asked
     * @return the new qube
     */
    public Qube createDisposable(String base, String creator) {
        return toolstack.disposables().obtain(base, creator);
    }

    /**
     * {@code admin.vm.CreateDisposable+preload}: fills the queue of preloaded disposables of {@code base} now (see
     * {@link PreloadedDisposables#preloadNow}); returns when they are ready.
     */
    public void preloadDisposables(String base) {
        toolstack.disposables().preloaded().preloadNow(base);
    }

    /** Writes the qube's firewall again into its netvm's QubesDB, and tells {@code admin.Events} listeners. */
    public void reloadFirewall(String qube) {
        toolstack.qubesdb().reloadFirewall(toolstack.inventory(), qube);
        toolstack.events().publish(new QubeEvent(qube, "firewall-changed", Map.of()));
    }
}
