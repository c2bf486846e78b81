package compart.cli.client;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.util.Objects;

/**
 * A property value as the Admin API serializes it: {@code default=True|False type=TYPE VALUE}.
 *
 * @param isDefault whether the value is the default (not set explicitly)
 * @param type      {@code str}, {@code int}, {@code bool}, {@code vm} or {@code label}
 * @param value     the value's text; empty means "none" for vm and label, "unset" for int and bool
 */
public record Property(boolean isDefault, String type, String value) {
    /** Checks the fields. */
    public Property {
        Objects.requireNonNull(type, "type");
        value = value == null ? "" : value;
    }

    /** @return whether the property has no value at all (an unset int or bool: qvm-prefs shows {@code U}) */
    public boolean isUnset() {
        return value.isEmpty() && (type.equals("int") || type.equals("bool"));
    }

    /** @return whether the value is "none" (an empty vm or label reference) */
    public boolean isNone() {
        return value.isEmpty() && (type.equals("vm") || type.equals("label"));
    }

    /**
     * Parses {@code default=True type=str value}.
     *
     * @param text the serialized property (after the name in GetAll's lines)
     * @return the property
     * @throws CompartException PROTOCOL when it is malformed
     */
    public static Property parse(String text) {
        String[] parts = text.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("default=") || !parts[1].startsWith("type=")) {
            throw new CompartException(ErrorKind.PROTOCOL,
                    "compartd sent a malformed property value: " + AdminSocket.printable(text));
        }
        return new Property(parts[0].equals("default=True"), parts[1].substring(5), parts.length > 2 ? parts[2] : "");
    }
}
