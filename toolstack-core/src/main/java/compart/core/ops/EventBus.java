package compart.core.ops;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** Fan-out of {@link QubeEvent}s to the {@code admin.Events} connections. Thread safe; listeners must not block. */
public final class EventBus {
    private final CopyOnWriteArrayList<Consumer<QubeEvent>> listeners = new CopyOnWriteArrayList<>();

    /** @return a handle that unsubscribes when closed */
    public AutoCloseable subscribe(Consumer<QubeEvent> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** Sends the event to every listener. */
    public void publish(QubeEvent event) {
        for (var l : listeners) {
            try {
                l.accept(event);
            } catch (RuntimeException e) {
                listeners.remove(l);
            }
        }
    }
}
