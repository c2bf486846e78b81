package compart.cli.command;

import compart.cli.Environment;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/** Every command by its name: what {@link compart.cli.Main} can run, and what {@code bin/} has a launcher for. */
public final class Commands {
    private static final Map<String, Supplier<QvmCommand>> ALL = new TreeMap<>(Map.ofEntries(
            Map.entry("qvm-ls", QvmLs::new),
            Map.entry("qvm-start", QvmStart::new),
            Map.entry("qvm-shutdown", QvmShutdown::new),
            Map.entry("qvm-kill", QvmKill::new),
            Map.entry("qvm-pause", QvmPause::new),
            Map.entry("qvm-unpause", QvmUnpause::new),
            Map.entry("qvm-check", QvmCheck::new),
            Map.entry("qvm-prefs", QvmPrefs::new),
            Map.entry("qubes-prefs", QubesPrefs::new),
            Map.entry("qvm-create", QvmCreate::new),
            Map.entry("qvm-remove", QvmRemove::new),
            Map.entry("qvm-backup", QvmBackup::new),
            Map.entry("qvm-clone", QvmClone::new),
            Map.entry("qvm-tags", QvmTags::new),
            Map.entry("qvm-features", QvmFeatures::new),
            Map.entry("qvm-firewall", QvmFirewall::new),
            Map.entry("qvm-service", QvmService::new),
            Map.entry("qvm-volume", QvmVolume::new),
            Map.entry("qvm-pool", QvmPool::new),
            Map.entry("qvm-run", QvmRun::new)));

    private Commands() {}

    /** @return whether a command has this name */
    public static boolean exists(String name) {
        return ALL.containsKey(name);
    }

    /** @return the names of all commands, sorted */
    public static List<String> names() {
        return List.copyOf(ALL.keySet());
    }

    /**
     * @param name an existing command's name
     * @param env  the environment it runs in
     * @return a new instance of the command
     */
    public static QvmCommand create(String name, Environment env) {
        QvmCommand command = ALL.get(name).get();
        command.environment(env);
        return command;
    }
}
