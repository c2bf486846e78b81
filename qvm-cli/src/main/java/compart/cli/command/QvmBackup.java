package compart.cli.command;

import compart.cli.Version;
import compart.cli.client.AdminClient;
import compart.cli.client.Reply;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qvm-backup}: Qubes' backup tool in dom0. Without {@code --profile} it writes a backup profile
 * ({@code /etc/qubes/backup/NAME.conf}; the system property {@code compart.backup.profiles} names another
 * directory) from its options, shows compartd's summary ({@code admin.backup.Info}), asks, then adds the
 * passphrase and runs {@code admin.backup.Execute}; the profile goes again unless {@code --save-profile}. Exit codes
 * as Qubes': 0 done or declined, 1 failed, 2 usage.
 */
@Command(name = "qvm-backup", description = "Create a backup of Qubes", mixinStandardHelpOptions = true,
        versionProvider = Version.class)
public final class QvmBackup extends QvmCommand {
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./@+-][A-Za-z0-9_./@+ -]*");

    @Option(names = {"--yes", "-y"}, description = "Do not ask for confirmation")
    boolean yes;

    @Option(names = "--profile", paramLabel = "PROFILE", description = "Perform backup defined by a given profile")
    String profile;

    @Option(names = {"--exclude", "-x"}, paramLabel = "EXCLUDE_LIST", description = "Exclude the specified VM from"
            + " the backup (may be repeated)")
    List<String> exclude = new ArrayList<>();

    @Option(names = {"--dest-vm", "-d"}, paramLabel = "APPVM", description = "Specify the destination VM to which"
            + " the backup will be sent (implies -e)")
    String destVm;

    @Option(names = {"--encrypt", "-e"}, description = "Ignored, backup is always encrypted")
    boolean encrypt;

    @Option(names = {"--passphrase-file", "-p"}, paramLabel = "PASSPHRASE_FILE", description = "Read passphrase"
            + " from a file, or use '-' to read from stdin")
    String passphraseFile;

    @Option(names = {"--compress", "-z"}, description = "Compress the backup (default)")
    Boolean compress;

    @Option(names = "--no-compress", description = "Do not compress the backup")
    boolean noCompress;

    @Option(names = {"--compress-filter", "-Z"}, paramLabel = "COMPRESSION",
            description = "Specify a non-default compression filter program (default: gzip)")
    String compressFilter;

    @Option(names = "--save-profile", paramLabel = "SAVE_PROFILE",
            description = "Save profile under selected name for further use. Available only in dom0.")
    String saveProfile;

    @Parameters(index = "0", arity = "0..1", paramLabel = "backup_location",
            description = "Backup location (absolute directory path, or command to pipe backup to)")
    String location;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "VMNAME", description = "Backup only those VMs")
    List<String> vms = new ArrayList<>();

    @Override
    public Integer call() {
        if (compressFilter != null && !"gzip".equals(compressFilter)) {
            throw usage("compression filter " + compressFilter + ": compartd writes gzip (Qubes' default) only");
        }
        String name;
        Path profilePath = null;
        if (profile == null) {
            if (location == null) {
                throw usage("either --profile or 'backup_location' is required");
            }
            name = saveProfile != null ? saveProfile : "backup-run-" + ProcessHandle.current().pid();
            profilePath = profileDirectory().resolve(name + ".conf");
            writeProfile(profilePath, null);
        } else {
            if (!exclude.isEmpty() || passphraseFile != null || compress != null || noCompress
                    || saveProfile != null) {
                throw usage("--exclude, --passphrase-file, --compress and --save-profile could not be used"
                        + " together with --profile");
            }
            name = profile;
        }
        AdminClient admin = client();
        try {
            Reply summary = admin.call(AdminClient.DOM0, "admin.backup.Info", name, null);
            if (summary instanceof Reply.Failure f) {
                err().println("\nBackup preparation error: " + f.message());
                return 1;
            }
            out().println(summary.text());
            out().flush();
            if (!yes && !"Y".equalsIgnoreCase(ask("Do you want to proceed? [y/N] "))) {
                return 0;
            }
            if (profile == null) {
                writeProfile(profilePath, passphrase());
            }
            Reply done = admin.call(AdminClient.DOM0, "admin.backup.Execute", name, null);
            if (done instanceof Reply.Failure f) {
                err().println("\nBackup error: " + f.message());
                return 1;
            }
            out().println("\n");
            return 0;
        } finally {
            if (profilePath != null && saveProfile == null) {
                try {
                    Files.deleteIfExists(profilePath);
                } catch (IOException e) {
                    err().println("cannot remove the temporary backup profile " + profilePath + ": "
                            + e.getMessage());
                }
            }
        }
    }

    /** Where compartd and this command find backup profiles. */
    static Path profileDirectory() {
        return Path.of(System.getProperty("compart.backup.profiles", "/etc/qubes/backup"));
    }

    private void writeProfile(Path path, String passphrase) {
        StringBuilder y = new StringBuilder();
        y.append("compression: ").append(!noCompress).append('\n');
        boolean toQube = destVm != null && !destVm.equals("dom0");
        String destination = toQube ? location : Path.of(location).toAbsolutePath().toString();
        y.append("destination_path: ").append(scalar(destination)).append('\n');
        y.append("destination_vm: ").append(toQube ? scalar(destVm) : "dom0").append('\n');
        if (!exclude.isEmpty()) {
            y.append("exclude:\n");
            exclude.forEach(e -> y.append("- ").append(scalar(e)).append('\n'));
        }
        if (vms.isEmpty()) {
            y.append("include: null\n");
        } else {
            y.append("include:\n");
            vms.forEach(v -> y.append("- ").append(scalar(v)).append('\n'));
        }
        if (passphrase != null) {
            y.append("passphrase_text: ").append(scalar(passphrase)).append('\n');
        }
        try {
            Files.createDirectories(path.getParent());
            Files.writeString(path, y.toString());
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot write backup profile " + path + ": "
                    + e.getMessage(), e);
        }
    }

    private static String scalar(String s) {
        if (PLAIN.matcher(s).matches() && !s.endsWith(" ") && !s.equals("null") && !s.equals("true")
                && !s.equals("false")) {
            return s;
        }
        return "'" + s.replace("'", "''") + "'";
    }

    private String passphrase() {
        if (passphraseFile != null) {
            try {
                String line = passphraseFile.equals("-") ? stdin().readLine()
                        : Files.readAllLines(Path.of(passphraseFile), StandardCharsets.UTF_8).stream().findFirst()
                        .orElse("");
                return line == null ? "" : line.stripTrailing();
            } catch (IOException e) {
                throw new CompartException(ErrorKind.STORAGE, "cannot read " + passphraseFile + ": "
                        + e.getMessage(), e);
            }
        }
        Console console = System.console();
        if (console == null) {
            throw usage("no terminal to ask the passphrase on: use --passphrase-file");
        }
        String first = new String(console.readPassword(
                "Please enter the passphrase that will be used to encrypt and verify the backup: "));
        String second = new String(console.readPassword("Enter again for verification: "));
        if (!first.equals(second)) {
            throw CompartException.invalidValue("Passphrase mismatch!");
        }
        return first;
    }

    private String ask(String prompt) {
        out().print(prompt);
        out().flush();
        try {
            String line = stdin().readLine();
            return line == null ? "" : line.strip();
        } catch (IOException e) {
            throw new CompartException(ErrorKind.STORAGE, "cannot read the answer: " + e.getMessage(), e);
        }
    }

    private static BufferedReader stdin() {
        return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    }
}
