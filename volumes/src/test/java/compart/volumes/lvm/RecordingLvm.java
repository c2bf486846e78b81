package compart.volumes.lvm;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * An LVM volume group with one thin pool, kept in memory, that answers the commands the driver runs as LVM does
 * (failing with LVM's kind of message where LVM fails) and records them. Like LVM, it rewrites the group's metadata
 * backup file after every change when given a backup directory. {@link #byAnotherTool} changes it without the
 * driver knowing, as another {@code lvm} user would. Thread-safe.
 */
final class RecordingLvm implements LvmCommandRunner {
    private record Lv(String name, String pool, long size, double dataPercent, String attributes, String origin,
                      Set<String> tags) {}

    private final String vg;
    private final String thinPool;
    private final Path backupDir;
    private final Map<String, Lv> lvs = new TreeMap<>();
    private final List<LvmCommand> ran = new ArrayList<>();
    private int seqno;

    /** @param backupDir where to write the group's metadata backup, or null for none (LVM's backup = 0) */
    RecordingLvm(String vg, String thinPool, long poolSize, Path backupDir) {
        this.vg = vg;
        this.thinPool = thinPool;
        this.backupDir = backupDir;
        lvs.put(thinPool, new Lv(thinPool, "", poolSize, 0, "twi-aotz--", "", Set.of()));
        changed();
    }

    @Override
    public synchronized String run(LvmCommand command) {
        ran.add(command);
        return apply(command);
    }

    /** Runs a command that the driver does not see: another tool's. */
    synchronized void byAnotherTool(LvmCommand command) {
        apply(command);
    }

    /** A qube wrote into the volume: its allocation grows, which changes no metadata. */
    synchronized void written(String lv, double dataPercent) {
        Lv v = existing(lv);
        lvs.put(lv, new Lv(v.name(), v.pool(), v.size(), dataPercent, v.attributes(), v.origin(), v.tags()));
    }

    /** @return the actions run through the driver, in order ({@code lvs}, {@code lvcreate} …) */
    synchronized List<String> actions() {
        return ran.stream().map(LvmCommand::action).toList();
    }

    synchronized long count(String action) {
        return ran.stream().filter(c -> c.action().equals(action)).count();
    }

    synchronized void forget() {
        ran.clear();
    }

    synchronized Set<String> names() {
        return Set.copyOf(lvs.keySet());
    }

    private String apply(LvmCommand command) {
        List<String> argv = command.argv();
        int dashes = argv.indexOf("--");
        List<String> options = argv.subList(2, dashes);
        List<String> targets = argv.subList(dashes + 1, argv.size()).stream()
                .map(t -> t.startsWith(vg + "/") ? t.substring(vg.length() + 1) : t).toList();
        switch (command.action()) {
            case "lvs" -> {
                return report();
            }
            case "lvcreate" -> {
                String name = option(options, "--name=");
                if (lvs.containsKey(name)) {
                    throw fail("Logical Volume \"" + name + "\" already exists in volume group \"" + vg + "\"");
                }
                Set<String> tags = new HashSet<>();
                if (option(options, "--addtag=") != null) {
                    tags.add(option(options, "--addtag="));
                }
                if (options.contains("--snapshot")) {
                    Lv origin = existing(targets.getFirst());
                    lvs.put(name, new Lv(name, thinPool, origin.size(), origin.dataPercent(), "Vwi-a-tz--",
                            origin.name(), tags));
                } else {
                    existing(targets.getFirst());
                    long size = Long.parseLong(option(options, "--virtualsize=").replace("B", ""));
                    lvs.put(name, new Lv(name, thinPool, size, 0, "Vwi-a-tz--", "", tags));
                }
            }
            case "lvrename" -> {
                Lv from = existing(targets.get(0));
                if (lvs.containsKey(targets.get(1))) {
                    throw fail("Logical Volume \"" + targets.get(1) + "\" already exists in volume group \"" + vg + "\"");
                }
                lvs.remove(from.name());
                lvs.put(targets.get(1), new Lv(targets.get(1), from.pool(), from.size(), from.dataPercent(),
                        from.attributes(), from.origin(), from.tags()));
                lvs.replaceAll((n, v) -> v.origin().equals(from.name()) ? new Lv(n, v.pool(), v.size(),
                        v.dataPercent(), v.attributes(), targets.get(1), v.tags()) : v);
            }
            case "lvremove" -> {
                Lv gone = existing(targets.getFirst());
                lvs.remove(gone.name());
                lvs.replaceAll((n, v) -> v.origin().equals(gone.name())
                        ? new Lv(n, v.pool(), v.size(), v.dataPercent(), v.attributes(), "", v.tags()) : v);
            }
            case "lvextend" -> {
                Lv v = existing(targets.getFirst());
                long size = Long.parseLong(option(options, "--size=").replace("B", ""));
                lvs.put(v.name(), new Lv(v.name(), v.pool(), size, v.dataPercent(), v.attributes(), v.origin(), v.tags()));
            }
            case "lvchange" -> {
                Lv v = existing(targets.getFirst());
                Set<String> tags = new HashSet<>(v.tags());
                if (option(options, "--addtag=") != null) {
                    tags.add(option(options, "--addtag="));
                }
                lvs.put(v.name(), new Lv(v.name(), v.pool(), v.size(), v.dataPercent(), v.attributes(), v.origin(), tags));
            }
            default -> throw fail("unknown command " + command);
        }
        changed();
        return "";
    }

    private String report() {
        return lvs.values().stream().map(v -> String.format(Locale.ROOT,
                        "{\"vg_name\":\"%s\", \"lv_name\":\"%s\", \"pool_lv\":\"%s\", \"lv_size\":\"%d\","
                                + " \"data_percent\":\"%.2f\", \"lv_attr\":\"%s\", \"origin\":\"%s\", \"lv_tags\":\"%s\"}",
                        vg, v.name(), v.pool(), v.size(), v.dataPercent(), v.attributes(), v.origin(),
                        String.join(",", v.tags())))
                .collect(Collectors.joining(",\n", "{\"report\": [{\"lv\": [\n", "\n]}]}"));
    }

    private Lv existing(String name) {
        Lv v = lvs.get(name);
        if (v == null) {
            throw fail("Failed to find logical volume \"" + vg + "/" + name + "\"");
        }
        return v;
    }

    private static String option(List<String> options, String prefix) {
        return options.stream().filter(o -> o.startsWith(prefix)).map(o -> o.substring(prefix.length()))
                .findFirst().orElse(null);
    }

    private static CompartException fail(String message) {
        return new CompartException(ErrorKind.STORAGE, "lvm failed (exit 5): " + message);
    }

    /** As LVM: a new backup file of the group's metadata (written aside, then renamed over the old one). */
    private void changed() {
        seqno++;
        if (backupDir == null) {
            return;
        }
        try {
            Path tmp = Files.writeString(backupDir.resolve(vg + ".tmp"), "seqno = " + seqno + "\n" + lvs.keySet());
            Files.move(tmp, backupDir.resolve(vg), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
