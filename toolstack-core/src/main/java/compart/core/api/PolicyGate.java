package compart.core.api;

import compart.core.model.Inventory;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import compart.core.ops.SystemInfoOps;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.policy.Policy;
import compart.policy.Request;
import compart.policy.Resolution;
import compart.policy.SystemInfo;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The qrexec policy's say on calls from qubes other than dom0, as Qubes decides {@code admin.*} services:
 * service = method, argument = {@code +arg}, target = the destination qube (or {@code @adminvm}), and only an
 * {@code allow} that runs the call in dom0 lets it through (Qubes' rules say {@code allow target=dom0}; for
 * destination dom0 a plain {@code allow}); {@code deny}, {@code ask} (no one to ask), an allow to another qube and
 * no policy at all are refused with PermissionDenied; each decision writes one audit line.
 */
final class PolicyGate {
    private static final Logger LOG = LoggerFactory.getLogger(PolicyGate.class);

    private final Supplier<Policy> policy;
    private final SystemInfoOps system;

    /**
     * @param policy the current policy; null from it denies every call from a qube
     * @param system what the policy knows of the qubes
     */
    PolicyGate(Supplier<Policy> policy, SystemInfoOps system) {
        this.policy = policy;
        this.system = system;
    }

    /** Decides a request from a qube with the policy; returns only when it is allowed. */
    void authorize(Inventory inv, AdminRequest request, Qube dest) {
        if (inv.find(request.source()).isEmpty() || request.source().equals("dom0")) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "request from an unknown qube refused");
        }
        var p = policy.get();
        var call = new Request(request.method(), "+" + request.arg(), request.source(), target(dest));
        if (p == null) {
            LOG.info("{}: denied: no qrexec policy is loaded (compartd --policy-dir)", request);
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Request refused");
        }
        var r = p.decide(call, system.systemInfo(inv), false);
        if (!runsInDom0(r)) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Request refused");
        }
    }

    /** @return the qubes of {@code qubes} the policy lets {@code source} list ({@code admin.vm.List}, unaudited) */
    List<Qube> listable(Inventory inv, String source, List<Qube> qubes) {
        var p = policy.get();
        SystemInfo info = system.systemInfo(inv);
        return qubes.stream().filter(q -> p != null && runsInDom0(p.evaluate(new Request("admin.vm.List", "+",
                source, target(q)), info))).toList();
    }

    private static String target(Qube q) {
        return q.klass() == QubeClass.AdminVM ? "@adminvm" : q.name();
    }

    /** @return whether the resolution allows the call to run in dom0 (where compartd is) */
    private static boolean runsInDom0(Resolution r) {
        return r instanceof Resolution.Allow a && (a.target().equals("dom0")
                || a.target().equals("@adminvm") || a.target().equals("uuid:" + SystemInfo.DOM0_UUID));
    }
}
