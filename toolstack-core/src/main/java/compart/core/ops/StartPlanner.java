package compart.core.ops;

import compart.core.model.Inventory;
import compart.core.model.Prop;
import compart.core.model.QubeClass;
import compart.errors.CompartException;
import compart.errors.Refusal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Computes the plan to start a qube: a pure function of the inventory and the power states, which touches
 * neither storage nor the hypervisor. The netvm chain comes first (farthest first), then the memory check, the
 * volumes, the paused domain, its QubesDB, unpause and the qrexec connection. {@link StartRun} carries it out.
 */
public final class StartPlanner {
    private StartPlanner() {
    }

    /**
     * @param inv    the inventory
     * @param name   the qube to start
     * @param state  the power state of each qube
     * @param qrexec whether the host runs qrexec daemons (real domains): adds {@link Step.ConnectQrexec} after
     *               unpause, required when the qube or its template has the feature {@code qrexec}
     * @return the steps, in order; empty when the qube is already running or paused
     * @throws CompartException NOT_FOUND (qube), INVALID_STATE (dom0, missing template or volumes)
     */
    public static List<Step> plan(Inventory inv, String name, Function<String, PowerState> state, boolean qrexec) {
        var q = inv.qube(name);
        if (q.klass() == QubeClass.AdminVM) {
            throw CompartException.invalidState("dom0 is always running: it cannot be started");
        }
        if (state.apply(name) != PowerState.Halted) {
            return List.of();
        }
        if (q.klass().hasTemplate() && inv.templateOf(q).isEmpty()) {
            throw Refusal.NO_TEMPLATE.exception("Template for the domain '%s' not found", name);
        }
        var steps = new ArrayList<Step>();
        var chain = inv.netvmChain(q);
        for (int i = chain.size() - 1; i >= 0; i--) {
            if (state.apply(chain.get(i).name()) == PowerState.Halted) {
                steps.add(new Step.StartNetvm(chain.get(i).name()));
            }
        }
        steps.add(new Step.CheckMemory(name, DomainSpecs.memoryNeeded(inv, q)));
        steps.add(new Step.PrepareVolumes(name, List.copyOf(q.volumes().values())));
        steps.add(new Step.CreatePaused(DomainSpecs.withoutDisks(inv, q), DomainSpecs.disks(inv, q)));
        steps.add(new Step.FillQubesDb(name));
        steps.add(new Step.Unpause(name));
        if (qrexec) {
            boolean required = inv.checkFeature(q, "qrexec", true, false, false)
                    .filter(v -> !v.isEmpty() && !v.equals("0") && !v.equalsIgnoreCase("false")).isPresent();
            steps.add(new Step.ConnectQrexec(name, Duration.ofSeconds(inv.value(q, Prop.QREXEC_TIMEOUT)), required));
        }
        return steps;
    }
}
