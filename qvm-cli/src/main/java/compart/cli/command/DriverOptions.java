package compart.cli.command;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** The {@code --option opt=value} list of {@code qvm-pool add} and {@code qvm-pool set} (a picocli mixin). */
final class DriverOptions {
    @Option(names = {"--option", "-o"}, paramLabel = "OPTION",
            description = "Set option for the driver in opt=value form (can be specified multiple times)")
    List<String> options = new ArrayList<>();

    /** @return the options given, in order, by name; a usage error for one without {@code =} or a name */
    Map<String, String> byName(QvmCommand command) {
        Map<String, String> result = new LinkedHashMap<>();
        for (String o : options) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw command.usage("option must be opt=value: " + o);
            }
            result.put(o.substring(0, eq), o.substring(eq + 1));
        }
        return result;
    }
}
