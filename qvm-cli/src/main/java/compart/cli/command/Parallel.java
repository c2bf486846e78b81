package compart.cli.command;

import compart.cli.client.QubeEntry;
import compart.cli.client.Reply;
import compart.errors.CompartException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * Runs one Admin API call per qube at the same time, as Qubes' tools start or stop many qubes at once. The replies
 * come back in the qubes' order; a failure to reach the daemon at all is thrown once.
 *
 * <p>The calls run on platform threads, not virtual ones: a virtual thread blocked on a socket parks on the JDK's
 * epoll poller threads, which stay in native code for the rest of the process, and the JVM's exit then waits 300 ms
 * for them (HotSpot's VM_Exit waits for threads in native), which is more than a whole qvm-* command should take.
 */
final class Parallel {
    private Parallel() {}

    static Map<QubeEntry, Reply> each(List<QubeEntry> qubes, Function<QubeEntry, Reply> call) {
        Map<QubeEntry, Reply> replies = new LinkedHashMap<>();
        if (qubes.size() == 1) {
            replies.put(qubes.getFirst(), call.apply(qubes.getFirst()));
            return replies;
        }
        try (var executor = threads()) {
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

    /** @return an executor with one platform daemon thread per task, for calls that wait on compartd */
    static ExecutorService threads() {
        return Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon().name("admin-call-", 0).factory());
    }

    /** Qubes' "not started" family: a halted qube needs no shutdown or kill. */
    static boolean notStarted(Reply reply) {
        return reply instanceof Reply.Failure f && (f.is("QubesVMNotStartedError") || f.is("QubesVMNotRunningError")
                || f.is("QubesVMNotPausedError"));
    }
}
