/** The qrexec policy engine in the Qubes format: loading, evaluation, lint, audit and the policy daemon. */
module compart.policy {
    requires transitive compart.errors;
    requires org.slf4j;
    requires com.fasterxml.jackson.core;
    requires info.picocli;

    exports compart.policy;
    exports compart.policy.daemon;

    opens compart.policy.cli to info.picocli;
    opens compart.policy.daemon to info.picocli;
}
