package compart.volumes.lvm;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@code lvm} commands (as root, {@code LC_ALL=C}; with {@code DM_DISABLE_UDEV=1} when udev is not running)
 * and reads the volumes of one thin pool from the volume group's cached {@code lvs} report ({@link LvsCache}), which
 * every command run here invalidates.
 */
final class Lvm {
    private static final Logger LOG = LoggerFactory.getLogger(Lvm.class);
    private static final long TIMEOUT_SECONDS = 300;
    /** Without udev (a minimal dom0), LVM would wait for device nodes that nobody makes. */
    private static final boolean UDEV_RUNNING = Files.exists(Path.of("/run/udev/control"));
    /** The {@code lvm} program, run as a process per command. */
    static final LvmCommandRunner PROCESSES = Lvm::exec;

    private final LvmPlans plans;
    private final LvmCommandRunner runner;
    private final LvsCache report;

    Lvm(LvmPlans plans, LvmCommandRunner runner, LvsCache report) {
        this.plans = plans;
        this.runner = runner;
        this.report = report;
    }

    LvmPlans plans() {
        return plans;
    }

    /** @return the volumes of the volume group that live in the thin pool, and the pool itself, by name */
    Map<String, LogicalVolume> volumes() {
        return volumes(LvsCache.ANY_AGE);
    }

    /** @return {@link #volumes()} from a report no older than {@code maxAge} */
    Map<String, LogicalVolume> volumes(Duration maxAge) {
        Map<String, LogicalVolume> out = new LinkedHashMap<>();
        for (LogicalVolume lv : report.report(maxAge)) {
            if (lv.pool().equals(plans.thinPool()) || lv.name().equals(plans.thinPool())) {
                out.put(lv.name(), lv);
            }
        }
        return out;
    }

    /** Forgets the cached report: the next question runs {@code lvs}. */
    void invalidate() {
        report.invalidate();
    }

    /** @return how many times {@code lvs} ran for the volume group */
    long reportReads() {
        return report.reads();
    }

    void runAll(List<LvmCommand> commands) {
        commands.forEach(this::run);
    }

    /** Runs a command that changes the volume group; the cached report is forgotten before and after. */
    String run(LvmCommand command) {
        report.invalidate();
        try {
            return runner.run(command);
        } finally {
            report.invalidate();
        }
    }

    /** @return what the command printed on stdout; STORAGE with its stderr when it fails */
    private static String exec(LvmCommand command) {
        LOG.debug("running {}", command);
        ProcessBuilder pb = new ProcessBuilder(command.argv());
        pb.environment().put("LC_ALL", "C");
        pb.environment().put("LVM_SUPPRESS_FD_WARNINGS", "1");
        if (!UDEV_RUNNING) {
            pb.environment().put("DM_DISABLE_UDEV", "1"); // device-mapper then makes the /dev nodes itself
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot run " + command.argv().getFirst() + " for '" + command
                    + "': " + e.getMessage() + " (the lvm_thin driver needs LVM: apt-get install lvm2"
                    + " thin-provisioning-tools)", e);
        }
        try {
            p.getOutputStream().close();
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
            String out = read(p.getInputStream());
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new CompartException(ErrorKind.TIMEOUT, "'" + command + "' did not finish in " + TIMEOUT_SECONDS + " s");
            }
            String warnings = err.get().lines()
                    .filter(l -> !l.contains("exceeds the size of thin pool") && !l.contains("Sum of all thin volume sizes")
                            && !l.contains("Udev is not running") && !l.isBlank())
                    .collect(Collectors.joining("\n"));
            if (p.exitValue() != 0) {
                throw new CompartException(ErrorKind.STORAGE, "'" + command + "' failed (exit " + p.exitValue() + "): "
                        + (warnings.isEmpty() ? "no message" : warnings.strip()));
            }
            if (!warnings.isEmpty()) {
                LOG.warn("{}: {}", command, warnings.strip());
            }
            return out;
        } catch (IOException | ExecutionException e) {
            throw new CompartException(ErrorKind.STORAGE, "'" + command + "': " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new CompartException(ErrorKind.STORAGE, "interrupted while running '" + command + "'", e);
        }
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
