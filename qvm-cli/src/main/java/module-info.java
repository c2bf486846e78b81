/**
 * The qvm-* commands: picocli front ends that talk to compartd over the Qubes Admin API socket only. They need
 * nothing of the daemon's code, which keeps their start-up short: toolstack-core is a test-scoped dependency
 * only, for the tests that start a real compartd in-process.
 */
module compart.cli {
    requires compart.errors;
    requires info.picocli;

    exports compart.cli;
    exports compart.cli.client;
    exports compart.cli.format;
    exports compart.cli.command;

    opens compart.cli.command to info.picocli;
    opens compart.cli to info.picocli;
}
