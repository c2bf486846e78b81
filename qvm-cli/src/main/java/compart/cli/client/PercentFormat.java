package compart.cli.client;

import java.util.List;

/**
 * Applies the arguments of a daemon error to its Python-style format ({@code %s}, {@code %d}, {@code %r},
 * {@code %%}), as qubesadmin does before showing it. Without arguments the format is the message as is.
 */
final class PercentFormat {
    private PercentFormat() {}

    static String apply(String format, List<String> args) {
        if (args.isEmpty()) {
            return format;
        }
        var out = new StringBuilder(format.length() + 32);
        int next = 0;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                out.append(c);
                continue;
            }
            char conversion = format.charAt(++i);
            switch (conversion) {
                case '%' -> out.append('%');
                case 's', 'd', 'i' -> out.append(next < args.size() ? args.get(next++) : "");
                case 'r' -> out.append('\'').append(next < args.size() ? args.get(next++) : "").append('\'');
                default -> out.append('%').append(conversion);
            }
        }
        return out.toString();
    }
}
