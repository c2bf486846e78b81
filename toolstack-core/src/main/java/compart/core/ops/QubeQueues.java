package compart.core.ops;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * One queue per qube: operations on one qube run in the order they were submitted, one at a time; operations on
 * different qubes run in parallel. Work runs on platform threads (FFM calls pin virtual threads), never on the
 * caller's thread. Thread safe.
 */
public final class QubeQueues implements AutoCloseable {
    private final ConcurrentHashMap<String, CompletableFuture<?>> tails = new ConcurrentHashMap<>();
    private final ExecutorService executor;

    /** Creates the queues with their own pool of platform threads. */
    public QubeQueues() {
        var n = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            var t = Thread.ofPlatform().daemon().name("qube-op-" + n.incrementAndGet()).unstarted(r);
            return t;
        });
    }

    /**
     * Queues {@code work} behind the operations already queued for {@code qube}.
     *
     * @return its result, completed exceptionally with what it threw
     */
    public <T> CompletableFuture<T> submit(String qube, Supplier<T> work) {
        var result = new CompletableFuture<T>();
        var tail = tails.compute(qube, (k, previous) -> {
            var start = previous == null ? CompletableFuture.completedFuture(null) : previous;
            return start.handleAsync((ignored, error) -> {
                try {
                    result.complete(work.get());
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
                return null;
            }, executor);
        });
        // the last operation of a queue removes it, so names that come and go (disposables) leave nothing behind
        tail.whenComplete((ignored, error) -> tails.remove(qube, tail));
        return result;
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
