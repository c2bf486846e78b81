package compart.cli.command;

import compart.cli.Version;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code qvm-clone VMNAME NEWVM}: copy a qube, its settings and its persistent volumes. */
@Command(name = "qvm-clone", description = "Clone a domain", mixinStandardHelpOptions = true,
        versionProvider = Version.class)
public final class QvmClone extends QvmCommand {
    @Parameters(index = "0", paramLabel = "VMNAME", description = "a domain name")
    String vmname;

    @Parameters(index = "1", paramLabel = "NEWVM", description = "name of the domain to create")
    String newName;

    @Option(names = {"--class", "-C"}, paramLabel = "CLS",
            description = "specify the class of the new domain (default: same as source)")
    String klass;

    @Option(names = "--ignore-errors",
            description = "log errors encountered during setting metadata but continue clone operation")
    boolean ignoreErrors;

    @Option(names = "-P", paramLabel = "POOL", description = "pool to use for the new domain")
    String onePool;

    @Option(names = {"-p", "--pool"}, paramLabel = "VOLUME=POOL",
            description = "specify the pool to use for the specific volume")
    List<String> pools = new ArrayList<>();

    @Override
    public Integer call() {
        if (onePool != null && !pools.isEmpty()) {
            throw usage("argument -p/--pool: not allowed with argument -P");
        }
        Clone.clone(this, vmname, newName, klass, null, onePool, QvmCreate.volumePools(pools, this), List.of(),
                ignoreErrors);
        return 0;
    }
}
