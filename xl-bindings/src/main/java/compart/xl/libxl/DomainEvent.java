package compart.xl.libxl;

import java.util.Objects;
import java.util.UUID;

/**
 * What libxl reports about a watched domain ({@link LibxlContext#watch}). A domain that shuts down reports
 * {@link Shutdown} once, then {@link Death} when it is destroyed; a domain destroyed before it shut down may report
 * only {@link Death}.
 */
public sealed interface DomainEvent {
    /** @return the domain the event is about */
    int domid();

    /** @return the domain's uuid (as it was when the watch was registered: libxl's own events carry none) */
    UUID uuid();

    /** The guest shut down (powered off, rebooted, crashed, ...); it still exists until destroyed. */
    record Shutdown(int domid, UUID uuid, ShutdownReason reason) implements DomainEvent {
        public Shutdown {
            Objects.requireNonNull(uuid, "uuid");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The domain is gone (destroyed). */
    record Death(int domid, UUID uuid) implements DomainEvent {
        public Death {
            Objects.requireNonNull(uuid, "uuid");
        }
    }
}
