/** The qube model, the durable store, the Admin API daemon compartd and the orchestration of domains. */
module compart.core {
    requires transitive compart.errors;
    requires compart.xl;
    requires compart.volumes;
    requires compart.policy;
    requires org.slf4j;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;

    requires java.xml;

    exports compart.core.model;
    exports compart.core.store;
    exports compart.core.hypervisor;
    exports compart.core.hypervisor.test;
    exports compart.core.hypervisor.libxl;
    exports compart.core.ops;
    exports compart.core.storage;
    exports compart.core.api;
    exports compart.core.daemon;
    exports compart.core.qrexec;
    opens compart.core.daemon to info.picocli;
}
