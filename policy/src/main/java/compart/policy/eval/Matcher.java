package compart.policy.eval;

import compart.policy.QubeInfo;
import compart.policy.SystemInfo;
import compart.policy.model.QubeToken;

/**
 * Whether a rule's source or target token matches a request, with Qubes' semantics: {@code dom0},
 * {@code @adminvm} and the all-zero uuid are one qube; {@code uuid:UUID} matches the qube's name; {@code @anyvm}
 * is everything but dom0 (keywords included); {@code @dispvm:NAME} in a rule matches a request for
 * {@code @dispvm} when NAME is the caller's {@code default_dispvm}.
 */
public final class Matcher {
    private Matcher() {
    }

    /** Python's {@code match_strings}: equality, where {@code uuid:UUID} equals the name of its qube. */
    static boolean sameQube(SystemInfo sys, String a, String b) {
        if (a.startsWith("uuid:")) {
            if (b.startsWith("uuid:")) return a.equals(b);
            QubeInfo q = sys.find(b);
            return q != null && a.substring(5).equals(q.uuid());
        }
        if (b.startsWith("uuid:")) {
            QubeInfo q = sys.find(a);
            return q != null && b.substring(5).equals(q.uuid());
        }
        return a.equals(b);
    }

    /** @return whether the source column token matches the calling qube */
    public static boolean matchesSource(QubeToken token, String source, SystemInfo sys) {
        return switch (token) {
            case QubeToken.Wildcard w -> true;
            case QubeToken.AnyVm a -> !QubeToken.isDom0(source);
            case QubeToken.AdminVm a -> QubeToken.isDom0(source);
            case QubeToken.TypeOf t -> isOfClass(sys, source, t.qubeClass());
            case QubeToken.Tagged t -> isTagged(sys, source, t.tag());
            case QubeToken.Named n -> QubeToken.isDom0(n.name()) ? QubeToken.isDom0(source)
                    : sameQube(sys, n.name(), source);
            // a calling qube is never a token, so these never match a caller (as in Qubes)
            case QubeToken.DispVmOf d -> false;
            case QubeToken.DispVmTagged d -> false;
            case QubeToken.DefaultVm d -> false;
            case QubeToken.DispVm d -> false;
        };
    }

    /**
     * @param target the verified intended target of the request (name, @adminvm, @default, @dispvm[:NAME])
     * @return whether the target column token matches it
     */
    public static boolean matchesTarget(QubeToken token, QubeToken target, String source, SystemInfo sys) {
        String t = target.text();
        return switch (token) {
            case QubeToken.Wildcard w -> true;
            case QubeToken.AnyVm a -> !QubeToken.isDom0(t);
            case QubeToken.AdminVm a -> QubeToken.isDom0(t);
            case QubeToken.DefaultVm d -> t.equals("@default");
            case QubeToken.DispVm d -> t.equals("@dispvm");
            case QubeToken.TypeOf ty -> isOfClass(sys, t, ty.qubeClass());
            case QubeToken.Tagged tg -> isTagged(sys, t, tg.tag());
            case QubeToken.DispVmOf d -> {
                if (target instanceof QubeToken.DispVm) {
                    String base = defaultDispVm(sys, source);
                    yield base != null && d.base().equals(base);
                }
                yield target instanceof QubeToken.DispVmOf o && sameQube(sys, d.base(), o.base());
            }
            case QubeToken.DispVmTagged d -> {
                String base = target instanceof QubeToken.DispVm ? defaultDispVm(sys, source)
                        : target instanceof QubeToken.DispVmOf o ? o.base() : null;
                QubeInfo q = base == null ? null : sys.find(base);
                yield q != null && q.templateForDispVms() && q.tags().contains(d.tag());
            }
            case QubeToken.Named n -> QubeToken.isDom0(n.name()) ? QubeToken.isDom0(t) : sameQube(sys, n.name(), t);
        };
    }

    /** @return whether {@code name} is a known qube of class {@code qubeClass} */
    private static boolean isOfClass(SystemInfo sys, String name, String qubeClass) {
        QubeInfo q = sys.find(name);
        return q != null && q.type().equals(qubeClass);
    }

    /** @return whether {@code name} is a known qube carrying {@code tag} */
    private static boolean isTagged(SystemInfo sys, String name, String tag) {
        QubeInfo q = sys.find(name);
        return q != null && q.tags().contains(tag);
    }

    /** @return the caller's {@code default_dispvm}, or null when it has none or is unknown */
    static String defaultDispVm(SystemInfo sys, String source) {
        QubeInfo q = sys.find(source);
        return q == null ? null : q.defaultDispVm();
    }
}
