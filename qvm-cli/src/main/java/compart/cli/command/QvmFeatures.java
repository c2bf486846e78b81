package compart.cli.command;

import compart.cli.Version;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qvm-features VMNAME [FEATURE [VALUE]]}: list, get (exit code 1: not set), set or {@code --unset} a
 * feature.
 */
@Command(name = "qvm-features", description = "manage domain's features", mixinStandardHelpOptions = true,
        versionProvider = Version.class)
public final class QvmFeatures extends QvmCommand {
    @Parameters(index = "0", paramLabel = "VMNAME", description = "a domain name")
    String vmname;

    @Parameters(index = "1", arity = "0..1", paramLabel = "FEATURE", description = "name of the feature")
    String feature;

    @Parameters(index = "2", arity = "0..1", paramLabel = "VALUE", description = "new value of the feature")
    String value;

    @Option(names = {"--unset", "--default", "--delete", "-D"}, description = "unset the feature")
    boolean delete;

    @Option(names = "--format", paramLabel = "FORMAT", description = "text (default) or json, for the listing")
    OutputFormat format = OutputFormat.text;

    @Override
    public Integer call() {
        String qube = resolveOne(vmname).name();
        if (feature == null) {
            if (delete) {
                throw usage("--unset requires a feature");
            }
            Map<String, String> all = new LinkedHashMap<>();
            for (String name : client().featureNames(qube)) {
                client().feature(qube, name).ifPresent(v -> all.put(name, v));
            }
            printPairs(all, format);
            return 0;
        }
        if (delete) {
            if (value != null) {
                throw usage("cannot both set and unset a value");
            }
            removeFeatureIfSet(qube, feature);
            return 0;
        }
        if (value == null) {
            Optional<String> v = client().feature(qube, feature);
            v.ifPresent(out()::println);
            return v.isPresent() ? 0 : 1;
        }
        client().setFeature(qube, feature, value);
        return 0;
    }
}
