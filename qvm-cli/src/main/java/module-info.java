/** The qvm-* commands: picocli front ends that talk to compartd over the Qubes Admin API. */
module compart.cli {
    requires compart.core;
    requires info.picocli;
    requires com.fasterxml.jackson.databind;

    // exports compart.cli; (added when the package has its first type)
}
