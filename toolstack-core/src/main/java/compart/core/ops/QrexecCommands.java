package compart.core.ops;

import compart.core.qrexec.QrexecRouter;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.errors.Refusal;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a command in a qube through its qrexec agent, as dom0's {@code qvm-run} does ({@code qrexec-client -d}):
 * starts a halted or unpauses a paused qube when asked, waits for its agent, then runs the command.
 *
 * <p>Thread safe; {@link #runInQube} blocks until the command ends.
 */
public final class QrexecCommands {
    private static final Logger LOG = LoggerFactory.getLogger(QrexecCommands.class);

    private final Toolstack toolstack;

    /** @param toolstack the qubes and their qrexec daemons */
    public QrexecCommands(Toolstack toolstack) {
        this.toolstack = toolstack;
    }

    /**
     * @param name      the qube (not dom0)
     * @param user      the user to run as
     * @param command   the command line, or {@code QUBESRPC SERVICE+ARG dom0}
     * @param autostart start a halted or unpause a paused qube instead of refusing
     * @return the remote exit code
     * @throws CompartException INVALID_STATE (no qrexec on this host, or {@link Refusal#NOT_RUNNING}), TIMEOUT
     *                          (the agent did not connect within {@code qrexec_timeout})
     */
    public int runInQube(String name, String user, String command, boolean autostart, InputStream stdin,
                         OutputStream stdout, OutputStream stderr) {
        QrexecRouter router = toolstack.qrexec().orElseThrow(() -> new CompartException(ErrorKind.INVALID_STATE,
                "qvm-run: compartd runs on the " + toolstack.hypervisorName() + " hypervisor, whose simulated "
                        + "domains have no qrexec agent: nothing can run in qube " + name + " (run compartd "
                        + "--hypervisor libxl on a Xen host)"));
        switch (toolstack.powerState(name)) {
            case Halted -> {
                if (!autostart) {
                    throw Refusal.NOT_RUNNING.exception("Qube '%s' not started", name);
                }
                LOG.info("qvm-run: starting {}", name);
                toolstack.start(name).join();
            }
            case Paused -> {
                if (!autostart) {
                    throw Refusal.NOT_RUNNING.exception("Qube '%s' is paused", name);
                }
                toolstack.unpause(name).join();
            }
            default -> {
            }
        }
        var inv = toolstack.inventory();
        awaitAgent(router, name, Duration.ofSeconds(inv.intValue(inv.qube(name), "qrexec_timeout")));
        return router.run(name, user, command, stdin, stdout, stderr);
    }

    /** After an autostart without the feature qrexec, the agent connects in the background: wait for it. */
    private static void awaitAgent(QrexecRouter router, String name, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!router.connected(name)) {
            if (System.nanoTime() > deadline) {
                throw new CompartException(ErrorKind.TIMEOUT, "Cannot connect to qrexec agent of " + name + " for "
                        + timeout.toSeconds() + " seconds, see /var/log/xen/console/guest-" + name
                        + ".log for details");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CompartException(ErrorKind.TIMEOUT, "interrupted waiting for the agent of " + name, e);
            }
        }
    }
}
