package compart.xl.libxl;

import java.util.Locale;

/**
 * A libxl enum whose JSON value is its Java constant in lower case ({@code libxl_domain_type} {@code "pvh"},
 * {@code libxl_action_on_shutdown} {@code "restart"}, ...).
 */
interface JsonNamed {
    /** @return the enum constant's name (implemented by {@link Enum#name()}) */
    String name();

    /** @return the name libxl JSON uses, e.g. {@code "pvh"} */
    default String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
