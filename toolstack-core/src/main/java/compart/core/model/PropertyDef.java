package compart.core.model;

/**
 * The definition of one property: its name, type, whether the Admin API may set it, and its help text.
 * Defaults and checks live in {@link PropertyCatalog}, keyed by name.
 *
 * @param name     the property name, as on the wire
 * @param type     its type
 * @param writable whether {@code property.Set}/{@code Reset} may change it
 * @param help     one paragraph for {@code property.Help}
 */
public record PropertyDef(String name, PropertyType type, boolean writable, String help) {
}
