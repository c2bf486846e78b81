package compart.core.ops;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An event as {@code admin.Events} sends it: a subject (a qube's name, or empty for the system), a name
 * ({@code domain-start}, {@code property-set:netvm} …) and keyword arguments.
 *
 * @param subject qube name, or "" for the system
 * @param name    event name
 * @param kwargs  its arguments, in order
 */
public record QubeEvent(String subject, String name, Map<String, String> kwargs) {
    /** Copies the arguments. */
    public QubeEvent {
        kwargs = Collections.unmodifiableMap(new LinkedHashMap<>(kwargs));
    }
}
