package compart.core.api;

import compart.core.model.PropertyValue;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The Admin API's value formats, both ways: decoding untrusted payloads as qubesd does (numbers, booleans, sizes)
 * and encoding replies (one item a line, Python booleans, property values, untrusted text in messages).
 */
final class AdminText {
    private AdminText() {
    }

    /** @return untrusted text for a message: printable ASCII only ({@code ?} for the rest), at most 64 characters */
    static String printable(String untrusted) {
        var b = new StringBuilder();
        for (int i = 0; i < untrusted.length() && i < 64; i++) {
            char c = untrusted.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return untrusted.length() > 64 ? b + "..." : b.toString();
    }

    /** @return each item followed by a newline */
    static String lines(Stream<String> s) {
        return s.map(x -> x + "\n").collect(Collectors.joining());
    }

    /** @return {@code True} or {@code False}, as Python prints them */
    static String py(boolean b) {
        return b ? "True" : "False";
    }

    /** @return a property value as {@code admin.vm.property.Get} answers it */
    static String serialize(PropertyValue v) {
        return "default=" + py(v.isDefault()) + " type=" + v.type().wireName() + " " + v.text();
    }

    /** @return {@code s} with backslashes and newlines escaped (one property a line in {@code GetAll}) */
    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\n", "\\n");
    }

    /** Parses a number as qubesd's {@code validate_number}: ProtocolError for anything but plain decimal digits. */
    static long validateNumber(byte[] untrusted, String name, boolean allowNegative) {
        String cap = Character.toUpperCase(name.charAt(0)) + name.substring(1);
        int sign = 1;
        int from = 0;
        if (allowNegative && untrusted.length > 0 && untrusted[0] == '-') {
            sign = -1;
            from = 1;
        }
        if (untrusted.length == from) {
            throw new CompartException(ErrorKind.PROTOCOL, cap + " contains non ASCII digits");
        }
        for (int i = from; i < untrusted.length; i++) {
            if (untrusted[i] < '0' || untrusted[i] > '9') {
                throw new CompartException(ErrorKind.PROTOCOL, cap + " contains non ASCII digits");
            }
        }
        if (untrusted.length - from >= 20) {
            throw new CompartException(ErrorKind.PROTOCOL, cap + " is bigger than 19 decimal digits");
        }
        if (untrusted[from] == '0' && untrusted.length - from > 1) {
            throw new CompartException(ErrorKind.PROTOCOL, cap + " contains spurious leading zeros");
        }
        try {
            return sign * Long.parseLong(new String(untrusted, from, untrusted.length - from,
                    StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            throw new CompartException(ErrorKind.PROTOCOL, cap + " is too big");
        }
    }

    /** Parses a boolean payload as qubesd's volume setters: 0/no/false/off, 1/yes/true/on, any case. */
    static boolean payloadBool(byte[] untrusted) {
        String value = new String(untrusted, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
        return switch (value) {
            case "0", "no", "false", "off" -> false;
            case "1", "yes", "true", "on" -> true;
            default -> throw new CompartException(ErrorKind.PROTOCOL, "Payload is not boolean ASCII");
        };
    }

    /** Parses a volume size: decimal bytes, a multiple of 512. */
    static long parseSize(String untrusted) {
        // Qubes' size rules (its words; it refuses them as protocol errors).
        String s = untrusted.strip();
        if (!s.matches("[0-9]+")) {
            throw new CompartException(ErrorKind.PROTOCOL, "Size must be ASCII digits (only)");
        }
        if (s.length() >= 20) {
            throw new CompartException(ErrorKind.PROTOCOL, "Sizes limited to 19 decimal digits");
        }
        if (s.startsWith("0") && !s.equals("0")) {
            throw new CompartException(ErrorKind.PROTOCOL, "Spurious leading zeros not allowed");
        }
        long size = Long.parseLong(s);
        if (size % 512 != 0) {
            throw CompartException.invalidValue("Invalid size: %d is not a multiple of 512 bytes", size);
        }
        return size;
    }

    /** Reads the size line of {@code admin.vm.volume.ImportWithSize}. */
    static String readSizeLine(InputStream in) {
        var b = new StringBuilder();
        try {
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0 || b.length() > 20) {
                    throw CompartException.invalidValue("ImportWithSize: the payload must start with the size and "
                            + "a newline");
                }
                b.append((char) c);
            }
        } catch (IOException e) {
            throw new CompartException(ErrorKind.PROTOCOL, "reading the import size: " + e.getMessage(), e);
        }
        return b.toString();
    }
}
