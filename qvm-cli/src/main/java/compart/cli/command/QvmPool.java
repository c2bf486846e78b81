package compart.cli.command;

import compart.cli.Version;
import compart.cli.client.AdminClient;
import compart.cli.client.Reply;
import compart.cli.format.JsonText;
import compart.cli.format.Progress;
import compart.cli.format.Table;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qvm-pool}: Qubes' drivers, list, info, add, remove and set, plus our {@code dedup POOL}
 * ({@code admin.pool.Dedup}: share identical extents between the pool's volumes, snapshot-aware).
 */
@Command(name = "qvm-pool", description = "Manages Qubes pools and their options", mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        subcommands = {QvmPool.Drivers.class, QvmPool.ListPools.class, QvmPool.Info.class, QvmPool.Add.class,
            QvmPool.Remove.class, QvmPool.Set.class, QvmPool.Dedup.class})
public final class QvmPool extends QvmCommand {
    @Override
    public Integer call() {
        return ListPools.list(this, OutputFormat.text);
    }

    static void requirePool(QvmCommand command, String pool) {
        if (!command.client().pools().contains(pool)) {
            throw command.usage("No such pools: " + pool);
        }
    }

    @Command(name = "drivers", aliases = {"d"}, description = "List all drivers with their options",
            mixinStandardHelpOptions = true)
    static final class Drivers extends QvmCommand {
        @Option(names = "--format", paramLabel = "FORMAT", description = "text (default) or json")
        OutputFormat format = OutputFormat.text;

        @Override
        public Integer call() {
            Map<String, List<String>> drivers = client().poolDrivers();
            if (format == OutputFormat.json) {
                out().println(JsonText.write(new LinkedHashMap<String, Object>(drivers)));
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("DRIVER", "OPTIONS"));
            drivers.forEach((d, params) -> rows.add(List.of(d, String.join(", ", params))));
            out().print(Table.render(rows));
            return 0;
        }
    }

    @Command(name = "list", aliases = {"l", "ls"}, description = "List all available pools",
            mixinStandardHelpOptions = true)
    static final class ListPools extends QvmCommand {
        @Option(names = "--format", paramLabel = "FORMAT", description = "text (default) or json")
        OutputFormat format = OutputFormat.text;

        @Override
        public Integer call() {
            return list(this, format);
        }

        static int list(QvmCommand command, OutputFormat format) {
            AdminClient c = command.client();
            Map<String, String> drivers = new LinkedHashMap<>();
            for (String pool : c.pools()) {
                drivers.put(pool, c.poolInfo(pool).getOrDefault("driver", ""));
            }
            if (format == OutputFormat.json) {
                List<Object> list = new ArrayList<>();
                drivers.forEach((p, d) -> list.add(new LinkedHashMap<String, Object>(Map.of("name", p))));
                for (int i = 0; i < list.size(); i++) {
                    @SuppressWarnings("unchecked")
                    var m = (Map<String, Object>) list.get(i);
                    m.put("driver", drivers.get((String) m.get("name")));
                }
                command.out().println(JsonText.write(list));
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("NAME", "DRIVER"));
            drivers.forEach((p, d) -> rows.add(List.of(p, d)));
            command.out().print(Table.render(rows));
            return 0;
        }
    }

    @Command(name = "info", aliases = {"i"}, description = "Print info about the specified pools",
            mixinStandardHelpOptions = true)
    static final class Info extends QvmCommand {
        @Parameters(arity = "1..*", paramLabel = "POOL_NAME", description = "pools")
        List<String> pools;

        @Option(names = "--format", paramLabel = "FORMAT", description = "text (default) or json")
        OutputFormat format = OutputFormat.text;

        @Override
        public Integer call() {
            pools.forEach(p -> requirePool(this, p));
            List<List<String>> rows = new ArrayList<>();
            Map<String, Object> json = new LinkedHashMap<>();
            for (String pool : pools) {
                Map<String, String> info = new TreeMap<>(client().poolInfo(pool));
                json.put(pool, new LinkedHashMap<String, Object>(info));
                if (!rows.isEmpty()) {
                    rows.add(List.of("", ""));
                }
                rows.add(List.of("name", pool));
                info.forEach((k, v) -> {
                    if (!k.equals("name")) {
                        rows.add(List.of(k, v));
                    }
                });
            }
            out().print(format == OutputFormat.json ? JsonText.write(json) + "\n" : Table.render(rows));
            return 0;
        }
    }

    @Command(name = "add", aliases = {"a"}, description = "Add a new pool", mixinStandardHelpOptions = true)
    static final class Add extends QvmCommand {
        @Parameters(index = "0", paramLabel = "POOL_NAME", description = "the new pool's name")
        String name;

        @Parameters(index = "1", paramLabel = "DRIVER", description = "its driver (see qvm-pool drivers)")
        String driver;

        @Mixin
        DriverOptions options = new DriverOptions();

        @Override
        public Integer call() {
            var payload = new StringBuilder("name=").append(name).append('\n');
            options.byName(this).forEach((k, v) -> payload.append(k).append('=').append(v).append('\n'));
            Reply r = client().call(AdminClient.DOM0, "admin.pool.Add", driver, payload.toString());
            if (r instanceof Reply.Failure f) {
                throw new CompartException(f.kind(), "Failed to add pool " + name + ": " + f.message());
            }
            return 0;
        }
    }

    @Command(name = "remove", aliases = {"r", "rm"}, description = "Remove the specified pools",
            mixinStandardHelpOptions = true)
    static final class Remove extends QvmCommand {
        @Parameters(arity = "1..*", paramLabel = "POOL_NAME", description = "pools")
        List<String> names;

        @Override
        public Integer call() {
            List<String> errors = new ArrayList<>();
            List<String> known = client().pools();
            for (String pool : names) {
                if (!known.contains(pool)) {
                    errors.add("No such pool " + pool);
                    continue;
                }
                if (client().call(AdminClient.DOM0, "admin.pool.Remove", pool, null) instanceof Reply.Failure f) {
                    errors.add("Failed to remove pool " + pool + ": " + f.message());
                }
            }
            if (!errors.isEmpty()) {
                throw new CompartException(ErrorKind.STORAGE, String.join("; ", errors));
            }
            return 0;
        }
    }

    @Command(name = "set", aliases = {"s"}, description = "Modify driver options for a pool",
            mixinStandardHelpOptions = true)
    static final class Set extends QvmCommand {
        @Parameters(index = "0", paramLabel = "POOL_NAME", description = "the pool")
        String name;

        @Mixin
        DriverOptions options = new DriverOptions();

        @Override
        public Integer call() {
            requirePool(this, name);
            List<String> errors = new ArrayList<>();
            options.byName(this).forEach((opt, value) -> {
                if (!opt.equals("revisions_to_keep") && !opt.equals("ephemeral_volatile") && !opt.equals("dedup")) {
                    errors.add("Setting option " + opt + " is not supported for pool " + name);
                } else if (client().call(AdminClient.DOM0, "admin.pool.Set." + opt, name, value)
                        instanceof Reply.Failure f) {
                    errors.add("Failed to set option " + opt + " for pool " + name + ": " + f.message());
                }
            });
            if (!errors.isEmpty()) {
                throw new CompartException(ErrorKind.INVALID_VALUE, String.join("; ", errors));
            }
            return 0;
        }
    }

    @Command(name = "dedup", description = "Deduplicate the data of a pool's volumes (Compart)",
            mixinStandardHelpOptions = true)
    static final class Dedup extends QvmCommand {
        @Parameters(index = "0", paramLabel = "POOL_NAME", description = "the pool")
        String name;

        @Override
        public Integer call() throws InterruptedException {
            requirePool(this, name);
            var progress = new Progress(err(), verbosity() >= 1 && Progress.onTerminal());
            Thread spinner = Thread.ofVirtual().start(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        progress.show("deduplicating pool " + name + "...");
                        Thread.sleep(200);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Reply r;
            try {
                r = client().call(AdminClient.DOM0, "admin.pool.Dedup", name, null);
            } finally {
                spinner.interrupt();
                spinner.join();
                progress.done();
            }
            String summary = r.text();
            if (!summary.isEmpty()) {
                out().print(summary.endsWith("\n") ? summary : summary + "\n");
            }
            return 0;
        }
    }
}
