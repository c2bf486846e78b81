package compart.policy;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of deciding one call: a value, never an exception.
 *
 * <p>{@link #rule()} is {@code FILE:LINE} of the rule that decided ({@code FILE:None} for the implicit denies
 * of {@code !compat-4.0}), or null when no rule did (no match, a malformed request, a policy that failed to
 * load: the reason then names the first problem's {@code FILE:LINE}). {@link #log()} is the
 * audit line in Qubes' journal format, with untrusted text escaped. {@link #wire()} is what the policy daemon
 * answers the qrexec daemon.
 */
public sealed interface Resolution {

    /** @return {@code FILE:LINE} of the deciding rule, or null */
    String rule();

    /** @return the audit line */
    String log();

    /** @return the daemon's answer, or null for an ask that still waits for the user */
    String wire();

    /** @return whether the user should be notified (the rule's {@code notify=}) */
    boolean notifyUser();

    /**
     * The call may go ahead.
     *
     * @param target    where it goes: a qube name, {@code dom0}, {@code uuid:UUID} or {@code @dispvm:NAME}
     * @param user      the user to run the service as, null for the default
     * @param autostart whether the target may be started for the call
     */
    record Allow(String rule, String target, String user, boolean notifyUser, boolean autostart, String wire,
                 String log) implements Resolution {
        public Allow {
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(wire, "wire");
        }
    }

    /**
     * The user must choose.
     *
     * @param targets       what the user may choose from, sorted
     * @param defaultTarget the preselected choice, or null
     */
    record Ask(String rule, List<String> targets, String defaultTarget, String user, boolean notifyUser,
               boolean autostart, String log) implements Resolution {
        public Ask {
            targets = List.copyOf(targets);
        }

        @Override
        public String wire() {
            return null;
        }
    }

    /**
     * The call is refused.
     *
     * @param reason why, as Qubes says it ({@code denied by policy FILE:LINE}, {@code no matching rule found} ...)
     */
    record Deny(String rule, String reason, boolean notifyUser, String log) implements Resolution {
        public Deny {
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public String wire() {
            return "result=deny";
        }
    }
}
