package compart.cli.command;

import compart.cli.client.QubeEntry;
import compart.cli.client.Reply;
import compart.errors.CompartException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * Runs one Admin API call per qube at the same time (on virtual threads: each call mostly waits on its socket), as
 * Qubes' tools start or stop many qubes at once. The replies come back in the qubes' order; a failure to reach the
 * daemon at all is thrown once.
 */
final class Parallel {
    private Parallel() {}

    static Map<QubeEntry, Reply> each(List<QubeEntry> qubes, Function<QubeEntry, Reply> call) {
        Map<QubeEntry, Reply> replies = new LinkedHashMap<>();
        if (qubes.size() == 1) {
            replies.put(qubes.getFirst(), call.apply(qubes.getFirst()));
            return replies;
        }
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Reply>> futures = new ArrayList<>();
            for (QubeEntry q : qubes) {
                futures.add(executor.submit(() -> call.apply(q)));
            }
            for (int i = 0; i < qubes.size(); i++) {
                replies.put(qubes.get(i), futures.get(i).get());
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CompartException ce) {
                throw ce;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        return replies;
    }

    /** Qubes' "not started" family: a halted qube needs no shutdown or kill. */
    static boolean notStarted(Reply reply) {
        return reply instanceof Reply.Failure f && (f.is("QubesVMNotStartedError") || f.is("QubesVMNotRunningError")
                || f.is("QubesVMNotPausedError"));
    }
}
