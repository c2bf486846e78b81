package compart.cli.command;

import compart.cli.Version;
import compart.errors.CompartException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qvm-service VMNAME [SERVICE [on|off]]}: services are the {@code service.NAME} features ("1" on, "" off).
 * Getting an unset service answers with exit code 1.
 */
@Command(name = "qvm-service", description = "manage domain's services", mixinStandardHelpOptions = true,
        versionProvider = Version.class)
public final class QvmService extends QvmCommand {
    @Parameters(index = "0", paramLabel = "VMNAME", description = "a domain name")
    String vmname;

    @Parameters(index = "1", arity = "0..1", paramLabel = "SERVICE", description = "name of the service")
    String service;

    @Parameters(index = "2", arity = "0..1", paramLabel = "VALUE", description = "new value of the service (on/off)")
    String value;

    @Option(names = {"--unset", "--default", "--delete", "-D"},
            description = "unset service (default to VM preference)")
    boolean delete;

    @Option(names = {"--list", "-l"}, description = "list services (default action)")
    boolean list;

    @Option(names = {"--enable", "-e"}, description = "enable service (same as setting \"on\" value)")
    boolean enable;

    @Option(names = {"--disable", "-d"}, description = "disable service (same as setting \"off\" value)")
    boolean disable;

    @Option(names = "--format", paramLabel = "FORMAT", description = "text (default) or json, for the listing")
    OutputFormat format = OutputFormat.text;

    @Override
    public Integer call() {
        String qube = resolveOne(vmname).name();
        String newValue = enable ? "1" : disable ? "0" : value;
        if (service == null) {
            if (delete) {
                throw usage("--unset requires a feature");
            }
            Map<String, String> services = new LinkedHashMap<>();
            for (String name : client().featureNames(qube)) {
                if (name.startsWith("service.")) {
                    client().feature(qube, name).ifPresent(v ->
                            services.put(name.substring("service.".length()), v.isEmpty() ? "off" : "on"));
                }
            }
            printPairs(services, format);
            return 0;
        }
        String feature = "service." + service;
        if (delete) {
            if (newValue != null) {
                throw usage("cannot both set and unset a value");
            }
            removeFeatureIfSet(qube, feature);
            return 0;
        }
        if (newValue != null) {
            client().setFeature(qube, feature, parseBool(newValue) ? "1" : "");
            return 0;
        }
        Optional<String> v = client().feature(qube, feature);
        v.ifPresent(s -> out().println(s.isEmpty() ? "off" : "on"));
        return v.isPresent() ? 0 : 1;
    }

    static boolean parseBool(String value) {
        return switch (value.toLowerCase()) {
            case "0", "no", "false", "off" -> false;
            case "1", "yes", "true", "on" -> true;
            default -> throw CompartException.invalidValue("Invalid literal for boolean value: '%s'", value);
        };
    }
}
