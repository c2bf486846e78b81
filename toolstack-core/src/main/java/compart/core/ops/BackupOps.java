package compart.core.ops;

import compart.core.backup.BackupHeader;
import compart.core.backup.BackupProfile;
import compart.core.backup.BackupQubesXml;
import compart.core.backup.BackupWriter;
import compart.core.backup.ScryptCost;
import compart.core.model.Inventory;
import compart.core.model.Qube;
import compart.core.model.QubeClass;
import compart.core.model.VolumeDefinition;
import compart.core.storage.Storage;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Backups of qubes as Qubes makes them ({@code admin.backup.Execute/Cancel/Info}): a profile
 * ({@code PROFILES/NAME.conf}) names the qubes, the destination and the passphrase; the backup holds a qubes.xml of
 * the inventory and each selected qube's {@code save_on_stop} volumes, their committed data (what a running qube's
 * volume held at its start, as Qubes backs up), exported in the qube's queue and streamed through
 * {@link BackupWriter}. Progress is published as the system event {@code backup-progress}.
 *
 * <p>Not in yet, each refused with its reason: a destination in a qube (Qubes' {@code qubes.Backup} service),
 * {@code passphrase_vm}, dom0's home directory. Thread safe: one run per profile at a time.
 */
public final class BackupOps {

    private static final DateTimeFormatter TARGET_NAME = DateTimeFormatter.ofPattern("'qubes-'yyyy-MM-dd'T'HHmmss");

    private final Toolstack toolstack;
    private final VolumeOps volumes;
    private final Path profiles;
    private final ScryptCost cost;
    private final Map<String, AtomicBoolean> running = new ConcurrentHashMap<>();

    /**
     * @param toolstack the qubes
     * @param volumes their volumes' export
     * @param profiles the profile directory (Qubes': {@code /etc/qubes/backup})
     * @param cost scrypt's cost for the backup's envelopes
     */
    public BackupOps(Toolstack toolstack, VolumeOps volumes, Path profiles, ScryptCost cost) {
        this.toolstack = toolstack;
        this.volumes = volumes;
        this.profiles = profiles;
        this.cost = cost;
    }

    /**
     * The backups compartd offers: profiles in {@code /etc/qubes/backup} (the system property
     * {@code compart.backup.profiles} names another directory), scrypt's {@link ScryptCost#DEFAULT} cost.
     */
    public static BackupOps standard(Toolstack toolstack, VolumeOps volumes) {
        return new BackupOps(toolstack, volumes, Path.of(System.getProperty("compart.backup.profiles",
                "/etc/qubes/backup")), ScryptCost.DEFAULT);
    }

    /** One qube's files in a backup. */
    private record Planned(Qube qube, List<VolumeDefinition> volumes, long size) {
    }

    /**
     * Runs the backup a profile describes, to its end.
     *
     * @param profileName the profile's name (no {@code /})
     * @return the backup file written
     * @throws CompartException PERMISSION_DENIED when the profile does not exist; INVALID_STATE when it runs
     *         already; INVALID_VALUE for a profile Compart cannot carry out; STORAGE when writing fails (the partial
     *         file is removed); INVALID_STATE "Backup cancelled" after {@link #cancel}
     */
    public Path execute(String profileName) {
        BackupProfile profile = load(profileName);
        if (profile.passphraseText() == null) {
            throw CompartException.invalidValue("Invalid backup profile - you need to specify passphrase_text or"
                    + " passphrase_vm (Compart reads passphrase_text only)");
        }
        if (!"dom0".equals(profile.destinationVm())) {
            throw CompartException.invalidValue("backup profile %s sends the backup to qube %s: Compart writes"
                    + " backups to a file in dom0 only (destination_vm: dom0) until it offers qubes.Backup",
                    profileName, profile.destinationVm());
        }
        AtomicBoolean cancelled = new AtomicBoolean();
        if (running.putIfAbsent(profileName, cancelled) != null) {
            throw new CompartException(ErrorKind.INVALID_STATE, "Backup already running");
        }
        try {
            return run(profileName, profile, cancelled);
        } finally {
            running.remove(profileName);
        }
    }

    /**
     * Stops a running backup; its {@code execute} then fails with "Backup cancelled" and removes its file.
     *
     * @throws CompartException INVALID_STATE "Backup operation not running"
     */
    public void cancel(String profileName) {
        AtomicBoolean flag = running.get(profileName);
        if (flag == null) {
            throw new CompartException(ErrorKind.INVALID_STATE, "Backup operation not running");
        }
        flag.set(true);
    }

    /**
     * What a profile would back up, in Qubes' table ({@code admin.backup.Info}).
     *
     * @throws CompartException as {@link #execute}, for the profile only
     */
    public String summary(String profileName) {
        BackupProfile profile = load(profileName);
        Inventory inv = toolstack.inventory();
        List<Planned> plan = plan(inv, profile);
        String line = "-".repeat(17) + "-+" + "-".repeat(13) + "-+" + "-".repeat(13) + "-+\n";
        StringBuilder s = new StringBuilder(line);
        s.append(String.format("%17s |%13s |%13s |%n", "VM", "type", "size")).append(line);
        long total = 0;
        for (Planned p : plan) {
            String type = switch (p.qube().klass()) {
                case TemplateVM -> "Template VM";
                case StandaloneVM -> "VM + Sys";
                default -> "VM";
            };
            s.append(String.format("%17s |%13s |%13s |", p.qube().name(), type, human(p.size())));
            if (toolstack.powerState(p.qube().name()) != PowerState.Halted) {
                s.append(" <-- The VM is running, backup will contain its state from before its start!");
            }
            s.append('\n');
            total += p.size();
        }
        s.append(line).append(String.format("%17s |%28s |%n", "Total size:", human(total))).append(line);
        List<String> left = new ArrayList<>();
        for (Qube q : inv.qubes().values()) {
            if (plan.stream().noneMatch(p -> p.qube().name().equals(q.name()))) {
                left.add(q.name());
            }
        }
        s.append("VMs not selected for backup:\n - ").append(String.join("\n - ", left.stream().sorted().toList()))
                .append('\n');
        return s.toString();
    }

    private Path run(String profileName, BackupProfile profile, AtomicBoolean cancelled) {
        Inventory inv = toolstack.inventory();
        List<Planned> plan = plan(inv, profile);
        Path target = target(profile.destinationPath());
        Map<String, Long> sizes = new LinkedHashMap<>();
        long total = 0;
        for (Planned p : plan) {
            sizes.put(p.qube().name(), p.size());
            total += p.size();
        }
        byte[] qubesXml = BackupQubesXml.render(inv, sizes);
        String backupId = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss"))
                + "-" + ProcessHandle.current().pid();
        AtomicLong done = new AtomicLong();
        AtomicLong lastEvent = new AtomicLong();
        long all = Math.max(total, 1);
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             BackupWriter w = new BackupWriter(ch, profile.passphraseText().getBytes(StandardCharsets.UTF_8),
                     BackupHeader.version4(backupId, profile.compression()), cost, BackupWriter.CHUNK_BYTES)) {
            w.addFile("qubes.xml", qubesXml);
            for (Planned p : plan) {
                for (VolumeDefinition v : p.volumes()) {
                    long size = volumes.volumeInfo(inv, p.qube(), v.name()).size();
                    OutputStream file = w.openFile("vm" + p.qube().qid() + "/" + v.name() + ".img", size, n -> {
                        if (cancelled.get()) {
                            throw new CompartException(ErrorKind.INVALID_STATE, "Backup cancelled");
                        }
                        long now = System.nanoTime();
                        long d = done.addAndGet(n);
                        if (now - lastEvent.get() >= 1_000_000_000L) {
                            lastEvent.set(now);
                            progress(profileName, 100.0 * d / all);
                        }
                    });
                    volumes.exportVolume(p.qube().name(), v.name(), file);
                    file.close();
                }
            }
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(target);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof CompartException c) {
                throw c;
            }
            throw new CompartException(ErrorKind.STORAGE, "ERROR: Failed to write the backup to " + target + ": "
                    + e.getMessage(), e);
        }
        progress(profileName, 100.0);
        long stamp = System.currentTimeMillis() / 1000;
        toolstack.change(i -> {
            Inventory out = i;
            for (Planned p : plan) {
                out = out.withProperty(p.qube().name(), "backup_timestamp", Long.toString(stamp));
            }
            return out;
        });
        return target;
    }

    private void progress(String profile, double percent) {
        toolstack.events().publish(new QubeEvent("", "backup-progress",
                Map.of("backup_profile", profile, "progress", Double.toString(percent))));
    }

    private List<Planned> plan(Inventory inv, BackupProfile profile) {
        List<Planned> plan = new ArrayList<>();
        for (Qube q : inv.qubes().values()) {
            boolean selected = profile.include() == null ? inv.boolValue(q, "include_in_backups")
                    : profile.include().contains(q.name());
            if (!selected || profile.exclude().contains(q.name()) || q.klass() == QubeClass.AdminVM) {
                continue;
            }
            List<VolumeDefinition> vs = new ArrayList<>();
            long size = 0;
            for (VolumeDefinition v : q.volumes().values()) {
                if (v.saveOnStop() && Storage.managed(inv, v)) {
                    vs.add(v);
                    size += volumes.volumeInfo(inv, q, v.name()).size();
                }
            }
            plan.add(new Planned(q, vs, size));
        }
        return plan;
    }

    private BackupProfile load(String name) {
        if (name.isEmpty() || name.contains("/")) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Backup profile name '" + name + "' refused");
        }
        Path file = profiles.resolve(name + ".conf");
        if (!Files.isRegularFile(file)) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Backup profile " + name + " does not exist");
        }
        try {
            return BackupProfile.parse(Files.readString(file));
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot read backup profile " + file + ": "
                    + e.getMessage(), e);
        }
    }

    private static Path target(String destination) {
        Path d = Path.of(destination);
        if (Files.isDirectory(d)) {
            return d.resolve(LocalDateTime.now().format(TARGET_NAME));
        }
        if (d.getParent() == null || !Files.isDirectory(d.getParent())) {
            throw CompartException.invalidValue("ERROR: the backup directory for %s does not exists", destination);
        }
        return d;
    }

    private static String human(long size) {
        if (size < 1024) {
            return Long.toString(size);
        }
        if (size < 1024 * 1024) {
            return Math.round(size / 102.4) / 10.0 + " KiB";
        }
        if (size < 1024L * 1024 * 1024) {
            return Math.round(size / (1024 * 102.4)) / 10.0 + " MiB";
        }
        return Math.round(size / (1024 * 1024 * 102.4)) / 10.0 + " GiB";
    }
}
