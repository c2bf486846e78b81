package compart.core.model;

/** The type of a property as the Admin API names it in {@code type=...}. */
public enum PropertyType {
    INT("int"), BOOL("bool"), STR("str"), VM("vm"), LABEL("label");

    private final String wireName;

    PropertyType(String wireName) {
        this.wireName = wireName;
    }

    /** @return the name used on the wire: int, bool, str, vm or label */
    public String wireName() {
        return wireName;
    }
}
