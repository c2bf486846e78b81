package compart.core.model;

import compart.errors.CompartException;
import java.util.regex.Pattern;

/**
 * A qube label: the colour of its window frames. Qubes' eight default labels have indexes 1..8; user labels get
 * indexes above 8.
 *
 * @param index the label's number (1..8 for the defaults)
 * @param name  its name, from {@code [A-Za-z0-9_.-]}, not all digits
 * @param color {@code 0xRRGGBB}
 */
public record Label(int index, String name, String color) {
    /** The largest index of a default label: labels at or below it cannot be removed. */
    public static final int MAX_DEFAULT_INDEX = 8;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]+");
    private static final Pattern COLOR = Pattern.compile("0x[0-9a-fA-F]{6}");

    /** Validates the label (see the component docs). */
    public Label {
        if (index < 1) {
            throw CompartException.invalidValue("label index must be positive, got %d", index);
        }
        validateName(name);
        if (color == null || !COLOR.matcher(color).matches()) {
            throw CompartException.invalidValue("label color must look like 0xcc0000, got %s",
                    QubeClass.printable(color));
        }
    }

    /**
     * @param untrustedName a label name as received
     * @throws CompartException INVALID_VALUE when it is empty, all digits or has other characters than
     *                          {@code [A-Za-z0-9_.-]}
     */
    public static void validateName(String untrustedName) {
        Names.matching(untrustedName, NAME, "label name must be set",
                "label name must be in the safe set [A-Za-z0-9_.-]");
        if (untrustedName.chars().allMatch(Character::isDigit)) {
            throw CompartException.invalidValue("label name must not be a number: %s", untrustedName);
        }
    }
}
