package compart.cli.command;

import compart.cli.Version;
import compart.cli.client.AdminClient;
import compart.cli.client.QubeEntry;
import compart.cli.client.Reply;
import compart.cli.format.JsonText;
import compart.cli.format.Progress;
import compart.cli.format.Table;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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
 * {@code qvm-volume}: list, info, config, resize, revert, import, clone and clear volumes ({@code VM:VOLUME}).
 * Failures print {@code Error: ...} and exit with 1, as Qubes' qvm-volume does.
 */
@Command(name = "qvm-volume", description = "Qubes volume management", mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        subcommands = {QvmVolume.ListVolumes.class, QvmVolume.Info.class, QvmVolume.Config.class,
            QvmVolume.Resize.class, QvmVolume.Revert.class, QvmVolume.Import.class, QvmVolume.CloneVolume.class,
            QvmVolume.Clear.class})
public final class QvmVolume extends QvmCommand {
    @Override
    public Integer call() {
        return ListVolumes.list(this, List.of(), List.of(), false, OutputFormat.text);
    }

    @Override
    public String failurePrefix() {
        return "Error: ";
    }

    /** A {@code VM:VOLUME} argument resolved against the daemon. */
    record VolumeRef(String qube, String volume) {
        @Override
        public String toString() {
            return qube + ":" + volume;
        }
    }

    /** Subcommands share the parent's error style and the VM:VOLUME parsing. */
    abstract static class Sub extends QvmCommand {
        @Override
        public String failurePrefix() {
            return "Error: ";
        }

        VolumeRef volume(String spec) {
            String[] parts = spec.split(":");
            if (parts.length != 2) {
                throw usage("expected a vm & volume combination like foo:bar");
            }
            AdminClient c = client();
            if (c.qubes().stream().noneMatch(q -> q.name().equals(parts[0]))) {
                throw new CompartException(ErrorKind.NOT_FOUND, "no vm '" + parts[0] + "'");
            }
            if (!c.volumes(parts[0]).contains(parts[1])) {
                throw new CompartException(ErrorKind.NOT_FOUND, "vm '" + parts[0] + "' has no volume '" + parts[1]
                        + "'");
            }
            return new VolumeRef(parts[0], parts[1]);
        }

        boolean confirm(String warning) throws IOException {
            out().println(warning);
            out().print("Are you sure? [y/N] ");
            out().flush();
            String answer = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            return answer != null && answer.strip().equalsIgnoreCase("y");
        }
    }

    @Command(name = "list", aliases = {"ls", "l"}, description = "list storage volumes",
            mixinStandardHelpOptions = true)
    static final class ListVolumes extends Sub {
        @Option(names = {"-p", "--pool"}, paramLabel = "POOL_NAME", description = "only volumes in this pool")
        List<String> pools = new ArrayList<>();

        @Option(names = "--full", description = "print full line for each POOL_NAME:VOLUME_ID & vm combination")
        boolean full;

        @Option(names = "--format", paramLabel = "FORMAT", description = "text (default) or json")
        OutputFormat format = OutputFormat.text;

        @Mixin
        QubeSelection selection;

        @Override
        public Integer call() {
            return list(this, selection.resolve(this, false), pools, full, format);
        }

        static int list(QvmCommand command, List<QubeEntry> selected, List<String> pools, boolean full,
                        OutputFormat format) {
            AdminClient c = command.client();
            List<String> known = c.pools();
            for (String p : pools) {
                if (!known.contains(p)) {
                    throw command.usage("No such pools: " + p);
                }
            }
            List<QubeEntry> qubes = selected.isEmpty() ? c.qubes() : selected;
            // (pool, vid) -> the qubes and volume names using it
            Map<String, List<String[]>> users = new TreeMap<>();
            Map<String, String> revertible = new TreeMap<>();
            for (QubeEntry q : qubes) {
                for (String v : c.volumes(q.name())) {
                    Map<String, String> info = c.volumeInfo(q.name(), v);
                    if (!pools.isEmpty() && !pools.contains(info.get("pool"))) {
                        continue;
                    }
                    String key = info.get("pool") + ":" + info.get("vid");
                    users.computeIfAbsent(key, k -> new ArrayList<>()).add(new String[] {q.name(), v});
                    revertible.putIfAbsent(key, c.revisions(q.name(), v).isEmpty() ? "No" : "Yes");
                }
            }
            if (format == OutputFormat.json) {
                List<Object> list = new ArrayList<>();
                users.forEach((key, uses) -> uses.forEach(u -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("volume", key);
                    m.put("vm", u[0]);
                    m.put("volume_name", u[1]);
                    m.put("revert_possible", revertible.get(key).equals("Yes"));
                    list.add(m);
                }));
                command.out().println(JsonText.write(list));
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("POOL:VOLUME", "VMNAME", "VOLUME_NAME", "REVERT_POSSIBLE"));
            boolean tty = Progress.onTerminal();
            users.forEach((key, uses) -> {
                List<String[]> ordered = new ArrayList<>(uses);
                String[] firstUse = ordered.removeLast();
                rows.add(List.of(key, firstUse[0], firstUse[1], revertible.get(key)));
                for (String[] u : ordered) {
                    rows.add(List.of(full || !tty ? key : "", u[0], u[1], revertible.get(key)));
                }
            });
            command.out().print(Table.render(rows));
            return 0;
        }
    }

    @Command(name = "info", aliases = {"i"}, description = "info about volume", mixinStandardHelpOptions = true)
    static final class Info extends Sub {
        private static final List<String> ITEMS = List.of("pool", "vid", "rw", "source", "save_on_stop",
                "snap_on_start", "size", "usage", "revisions_to_keep", "ephemeral");

        @Parameters(index = "0", paramLabel = "VM:VOLUME", description = "A VM & volume id combination")
        String spec;

        @Parameters(index = "1", arity = "0..1", paramLabel = "PROPERTY",
                description = "Show only this property instead of all of them; use 'revisions' to list revisions")
        String property;

        @Option(names = "--format", paramLabel = "FORMAT", description = "text (default) or json")
        OutputFormat format = OutputFormat.text;

        @Override
        public Integer call() {
            VolumeRef ref = volume(spec);
            Map<String, String> info = client().volumeInfo(ref.qube(), ref.volume());
            List<String> revisions = client().revisions(ref.qube(), ref.volume());
            String outdated = info.getOrDefault("is_outdated", "False");
            if (property != null) {
                if (property.equals("revisions")) {
                    revisions.forEach(out()::println);
                } else if (property.equals("is_outdated")) {
                    out().println(outdated);
                } else if (ITEMS.contains(property)) {
                    out().println(info.getOrDefault(property, ""));
                } else {
                    throw new CompartException(ErrorKind.NOT_FOUND, "No such property: " + property);
                }
                return 0;
            }
            if (format == OutputFormat.json) {
                Map<String, Object> m = new LinkedHashMap<>();
                ITEMS.forEach(i -> m.put(i, info.getOrDefault(i, "")));
                m.put("is_outdated", outdated);
                m.put("revisions", revisions);
                out().println(JsonText.write(m));
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            for (String item : ITEMS) {
                String v = info.getOrDefault(item, "");
                if (item.equals("revisions_to_keep") && v.equals("-1")) {
                    v = "-1 (snapshot disabled)";
                }
                rows.add(List.of(item, v));
            }
            rows.add(List.of("is_outdated", outdated));
            out().print(Table.render(rows));
            if (revisions.isEmpty()) {
                out().println("List of available revisions (for revert): none");
            } else {
                out().println("List of available revisions (for revert):");
                revisions.forEach(r -> out().println("  " + r));
            }
            return 0;
        }
    }

    @Command(name = "config", aliases = {"c", "set", "s"}, description = "set config option for a volume",
            mixinStandardHelpOptions = true)
    static final class Config extends Sub {
        @Parameters(index = "0", paramLabel = "VM:VOLUME", description = "A VM & volume id combination")
        String spec;

        @Parameters(index = "1", paramLabel = "PROPERTY", description = "rw, revisions_to_keep or ephemeral")
        String property;

        @Parameters(index = "2", paramLabel = "VALUE", description = "the new value")
        String value;

        @Override
        public Integer call() {
            VolumeRef ref = volume(spec);
            if (!List.of("rw", "revisions_to_keep", "ephemeral").contains(property)) {
                throw new CompartException(ErrorKind.NOT_FOUND, "Invalid property: " + property);
            }
            client().call(ref.qube(), "admin.vm.volume.Set." + property, ref.volume(), value).orThrow();
            return 0;
        }
    }

    @Command(name = "resize", aliases = {"extend"}, description = "resize volume for domain",
            mixinStandardHelpOptions = true)
    static final class Resize extends Sub {
        @Parameters(index = "0", paramLabel = "VM:VOLUME", description = "A VM & volume id combination")
        String spec;

        @Parameters(index = "1", paramLabel = "SIZE", description = "New size in bytes (or with K, M, G, Ki, Mi, Gi)")
        String size;

        @Option(names = {"--force", "-f"},
                description = "Force operation, even if new size is smaller than the current one")
        boolean force;

        @Override
        public Integer call() {
            VolumeRef ref = volume(spec);
            long bytes = parseSize(size);
            long current = Long.parseLong(client().volumeInfo(ref.qube(), ref.volume()).getOrDefault("size", "0"));
            if (!force && bytes < current) {
                throw new CompartException(ErrorKind.INVALID_VALUE, "Refusing to shrink volume " + ref + " from "
                        + current + " to " + bytes + " bytes. Shrink the filesystem inside the qube first, then use "
                        + "'qvm-volume resize --force " + ref + " " + bytes + "'");
            }
            client().call(ref.qube(), "admin.vm.volume.Resize", ref.volume(), String.valueOf(bytes)).orThrow();
            return 0;
        }
    }

    /** Qubes' size syntax: digits, or a number with K/KB/M/MB/G/GB (powers of 1000) or Ki/KiB/Mi/MiB/Gi/GiB. */
    static long parseSize(String text) {
        String size = text.strip().toUpperCase();
        if (!size.isEmpty() && size.chars().allMatch(Character::isDigit)) {
            return Long.parseLong(size);
        }
        String[][] units = {{"K", "1000"}, {"KB", "1000"}, {"M", "1000000"}, {"MB", "1000000"},
            {"G", "1000000000"}, {"GB", "1000000000"}, {"KI", "1024"}, {"KIB", "1024"}, {"MI", "1048576"},
            {"MIB", "1048576"}, {"GI", "1073741824"}, {"GIB", "1073741824"}};
        for (String[] unit : units) {
            if (size.endsWith(unit[0])) {
                try {
                    return Math.multiplyExact(Long.parseLong(size.substring(0, size.length() - unit[0].length())
                            .strip()), Long.parseLong(unit[1]));
                } catch (NumberFormatException | ArithmeticException e) {
                    break;
                }
            }
        }
        throw CompartException.invalidValue("Invalid size: %s.", size);
    }

    @Command(name = "revert", aliases = {"rv", "r"}, description = "revert volume to previous revision",
            mixinStandardHelpOptions = true)
    static final class Revert extends Sub {
        @Parameters(index = "0", paramLabel = "VM:VOLUME", description = "A VM & volume id combination")
        String spec;

        @Parameters(index = "1", arity = "0..1", paramLabel = "REVISION",
                description = "Optional revision to revert to; if not specified, latest one is assumed")
        String revision;

        @Override
        public Integer call() {
            VolumeRef ref = volume(spec);
            String target = revision;
            if (target == null) {
                List<String> revisions = client().revisions(ref.qube(), ref.volume());
                if (revisions.isEmpty()) {
                    throw new CompartException(ErrorKind.NOT_FOUND, "No snapshots available");
                }
                target = revisions.getLast();
            }
            client().call(ref.qube(), "admin.vm.volume.Revert", ref.volume(), target).orThrow();
            return 0;
        }
    }

    @Command(name = "import", description = "import volume data", mixinStandardHelpOptions = true)
    static final class Import extends Sub {
        @Parameters(index = "0", paramLabel = "VM:VOLUME", description = "A VM & volume id combination")
        String spec;

        @Parameters(index = "1", paramLabel = "PATH", description = "File path to import, use '-' for standard input")
        String inputPath;

        @Option(names = "--size", paramLabel = "SIZE", description = "Set volume size to this value in bytes")
        Long size;

        @Option(names = "--no-resize", description = "Do not resize volume before importing data")
        boolean noResize;

        @Override
        public Integer call() throws IOException {
            VolumeRef ref = volume(spec);
            boolean stdin = inputPath.equals("-");
            long bytes;
            if (noResize) {
                bytes = -1;
            } else if (size != null) {
                bytes = size;
            } else if (stdin) {
                throw new CompartException(ErrorKind.INVALID_VALUE, "Failed to get the size of standard input, "
                        + "specify it explicitly with --size, or use --no-resize option");
            } else {
                bytes = Files.size(Path.of(inputPath));
            }
            var progress = new Progress(err(), verbosity() >= 1 && Progress.onTerminal());
            try (InputStream in = stdin ? System.in : Files.newInputStream(Path.of(inputPath))) {
                String method = noResize ? "admin.vm.volume.Import" : "admin.vm.volume.ImportWithSize";
                byte[] head = noResize ? new byte[0] : (bytes + "\n").getBytes(StandardCharsets.US_ASCII);
                Reply r = client().socket().stream(ref.qube(), method, ref.volume(), head, in, sent ->
                        progress.show("importing into " + ref + ": " + sent / (1 << 20) + " MiB"
                                + (bytes > 0 ? " of " + bytes / (1 << 20) + " MiB" : "")));
                progress.done();
                r.orThrow();
            } catch (NoSuchFileException e) {
                throw new CompartException(ErrorKind.NOT_FOUND, "no such file: " + inputPath, e);
            } finally {
                progress.done();
            }
            return 0;
        }
    }

    @Command(name = "clone", description = "clone volume data", mixinStandardHelpOptions = true)
    static final class CloneVolume extends Sub {
        @Parameters(index = "0", paramLabel = "SOURCE_VM:SOURCE_VOLUME", description = "the volume to copy")
        String source;

        @Parameters(index = "1", paramLabel = "DESTINATION_VM:DESTINATION_VOLUME", description = "the copy")
        String destination;

        @Option(names = {"--force", "-f"}, description = "Do not prompt for confirmation")
        boolean force;

        @Override
        public Integer call() throws IOException {
            VolumeRef src = volume(source);
            VolumeRef dst = volume(destination);
            if (!"True".equals(client().volumeInfo(src.qube(), src.volume()).get("save_on_stop"))
                    || !"True".equals(client().volumeInfo(dst.qube(), dst.volume()).get("save_on_stop"))) {
                throw new CompartException(ErrorKind.STORAGE, "Volumes must be save_on_stop for cloning");
            }
            if (!force && !confirm("This will clone the data from " + src + " into " + dst + "!\n(Data in " + dst
                    + " may be preserved in a revision.)")) {
                out().println("Clone cancelled.");
                return 0;
            }
            String token = client().call(src.qube(), "admin.vm.volume.CloneFrom", src.volume(), null).text().strip();
            client().call(dst.qube(), "admin.vm.volume.CloneTo", dst.volume(), token).orThrow();
            return 0;
        }
    }

    @Command(name = "clear", description = "clear volume data", mixinStandardHelpOptions = true)
    static final class Clear extends Sub {
        @Parameters(index = "0", paramLabel = "VM:VOLUME", description = "A VM & volume id combination")
        String spec;

        @Option(names = {"--force", "-f"}, description = "Do not prompt for confirmation")
        boolean force;

        @Override
        public Integer call() throws IOException {
            VolumeRef ref = volume(spec);
            if (!force && !confirm("This will empty the volume!\n(Data may be preserved in a revision.)")) {
                out().println("Clear cancelled.");
                return 0;
            }
            client().call(ref.qube(), "admin.vm.volume.Clear", ref.volume(), null).orThrow();
            return 0;
        }
    }
}
