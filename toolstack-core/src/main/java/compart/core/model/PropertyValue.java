package compart.core.model;

import java.util.Optional;

/**
 * The value of one property as the Admin API reports it.
 *
 * @param name      the property name
 * @param type      its type
 * @param isDefault whether the value comes from the default (not set explicitly)
 * @param value     the value in its canonical text form (int decimal, bool {@code True}/{@code False}, vm and label
 *                  by name); empty when the property has no value (a vm property set to none, or no default)
 */
public record PropertyValue(String name, PropertyType type, boolean isDefault, Optional<String> value) {
    /** @return the value, or the empty string when there is none (the Admin API's rendering of None) */
    public String text() {
        return value.orElse("");
    }
}
