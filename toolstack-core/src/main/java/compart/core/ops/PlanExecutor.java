package compart.core.ops;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;

/**
 * Runs a plan step by step; when a step fails, undoes the completed steps in reverse order, then reports which
 * step failed and what was rolled back. The caller re-reads the real state afterwards.
 */
final class PlanExecutor {
    /** Runs one step and returns how to undo it (null when there is nothing to undo). */
    interface Runner {
        Runnable run(Step step);
    }

    private PlanExecutor() {
    }

    static void execute(String what, List<Step> steps, Runner runner, Logger log) {
        var undo = new ArrayDeque<Runnable>();
        var done = new ArrayList<String>();
        for (var step : steps) {
            try {
                log.info("{}: {}", what, step.describe());
                var u = runner.run(step);
                if (u != null) {
                    undo.push(u);
                }
                done.add(step.describe());
            } catch (RuntimeException e) {
                var undoErrors = new ArrayList<String>();
                while (!undo.isEmpty()) {
                    try {
                        undo.pop().run();
                    } catch (RuntimeException ue) {
                        undoErrors.add(ue.getMessage());
                        log.error("{}: rollback step failed: {}", what, ue.getMessage());
                    }
                }
                var kind = e instanceof CompartException ce ? ce.kind() : ErrorKind.HYPERVISOR;
                String msg = what + " failed at step '" + step.describe() + "': " + e.getMessage()
                        + (done.isEmpty() ? "" : "; rolled back: " + String.join(", ", done.reversed()))
                        + (undoErrors.isEmpty() ? "" : "; rollback errors: " + String.join("; ", undoErrors));
                log.error(msg);
                throw new CompartException(kind, msg, e);
            }
        }
    }
}
