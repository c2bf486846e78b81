package compart.policy.model;

/**
 * What a rule does when it matches: allow, deny or ask, with the parameters Qubes allows for each.
 *
 * <p>{@code target} and {@code defaultTarget} are redirects ({@link PolicyColumn#REDIRECT} tokens), null when absent;
 * {@code user} null means the target's default user.
 */
public sealed interface Action {

    /** @return whether the user is notified of the outcome ({@code notify=}) */
    boolean notifyUser();

    /** @return the action's keyword in policy text */
    String keyword();

    /** {@code allow [target=] [user=] [notify=] [autostart=]}; notify defaults to no, autostart to yes. */
    record Allow(QubeToken target, String user, boolean notifyUser, boolean autostart) implements Action {
        public Allow {
            if (target != null && !target.allowedIn(PolicyColumn.REDIRECT)) {
                throw new IllegalArgumentException("not a redirect: " + target.text());
            }
        }
        @Override public String keyword() { return "allow"; }
    }

    /** {@code deny [notify=]}; notify defaults to yes. */
    record Deny(boolean notifyUser) implements Action {
        @Override public String keyword() { return "deny"; }
    }

    /** {@code ask [target=] [default_target=] [user=] [notify=] [autostart=]}; notify no, autostart yes. */
    record Ask(QubeToken target, QubeToken defaultTarget, String user, boolean notifyUser, boolean autostart)
            implements Action {
        public Ask {
            if (target != null && !target.allowedIn(PolicyColumn.REDIRECT)
                    || defaultTarget != null && !defaultTarget.allowedIn(PolicyColumn.REDIRECT)) {
                throw new IllegalArgumentException("not a redirect");
            }
        }
        @Override public String keyword() { return "ask"; }
    }
}
