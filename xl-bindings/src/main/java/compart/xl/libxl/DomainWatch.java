package compart.xl.libxl;

/**
 * A registration for a domain's shutdown and death events, made by {@link LibxlContext#watch}. Closing it stops
 * the events ({@code libxl_evdisable_domain_death}); closing it twice, or after the context was closed, does
 * nothing. Thread-safe.
 */
public interface DomainWatch extends AutoCloseable {
    /** @return the watched domain */
    int domid();

    @Override
    void close();
}
