package compart.cli.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import compart.cli.client.AdminClient;
import compart.cli.client.AdminSocket;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Qubes' own qvm-firewall (its admin client from {@code ../shared/qubes-dom0-src}, unchanged, run by Debian's
 * python3) and ours, side by side against one compartd: each step runs Qubes' tool on qube {@code theirs} and ours
 * on qube {@code ours}, and both must print the same standard output, fail or succeed the same way (exit code; no
 * error output, a usage error or a failure, with the same message where Qubes' tool has one), and leave the same
 * rules stored. Skips, saying why, without Qubes' sources, python3 or {@code column} (which Qubes' table needs).
 */
class QvmFirewallSideBySideTest {
    private static final String CLIENT = "qubes-core-admin-client-4.3.34";
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Path COLUMN = Path.of("/usr/bin/column");

    @TempDir
    Path dir;

    private CliTestDaemon daemon;
    private static Path client;
    private static Path metadata;

    /** Where the sources sit beside the repository ({@code ../shared}, seen from the repository's root). */
    private static Path sharedSources() {
        Path here = Path.of("").toAbsolutePath();
        Path root = Files.isRegularFile(here.resolve("mvnw")) ? here : here.getParent();
        return root.resolveSibling("shared").resolve("qubes-dom0-src");
    }

    @BeforeAll
    static void unpackQubesClient() throws IOException, InterruptedException {
        Path tarball = sharedSources().resolve(CLIENT + ".tar.gz");
        assumeThat(Files.isRegularFile(tarball)).as("Qubes' admin client sources are not here (%s is missing): "
                + "skipping the side-by-side test of qvm-firewall", tarball).isTrue();
        assumeThat(Files.isExecutable(PYTHON)).as("no %s (Debian's python3): skipping the side-by-side test of "
                + "qvm-firewall", PYTHON).isTrue();
        assumeThat(Files.isExecutable(COLUMN)).as("no %s (Debian's bsdextrautils), which Qubes' qvm-firewall "
                + "pipes its table through: skipping the side-by-side test", COLUMN).isTrue();
        Path target = Path.of("target").toAbsolutePath();
        client = target.resolve(CLIENT);
        if (!Files.isRegularFile(client.resolve("qubesadmin/tools/qvm_firewall.py"))) {
            run(target, "tar", "xzf", tarball.toString());
        }
        // Qubes' argument parser reads its package's name and version, which an unpacked tree does not have
        metadata = Files.createDirectories(target.resolve("qubesadmin-metadata/qubesadmin-4.3.34.dist-info"))
                .getParent();
        Files.writeString(metadata.resolve("qubesadmin-4.3.34.dist-info/METADATA"),
                "Metadata-Version: 2.1\nName: qubesadmin\nVersion: 4.3.34\n");
    }

    private static void run(Path cwd, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(2, TimeUnit.MINUTES) && p.exitValue() == 0).as("%s: %s", List.of(command), out).isTrue();
    }

    @BeforeEach
    void startDaemonWithTwoQubes() {
        daemon = QvmFirewallTest.daemonWithQubes(dir, "theirs", "ours");
    }

    @AfterEach
    void stopDaemon() {
        daemon.close();
    }

    /** Runs Qubes' qvm-firewall with these arguments. */
    private CliRun qubes(List<String> args) throws IOException, InterruptedException {
        Path script = dir.resolve("qubes_qvm_firewall.py");
        if (!Files.exists(script)) {
            try (InputStream in = getClass().getResourceAsStream("qubes_qvm_firewall.py")) {
                Files.write(script, in.readAllBytes());
            }
        }
        List<String> command = new ArrayList<>(List.of(PYTHON.toString(), script.toString(),
                daemon.socket.toString()));
        command.addAll(args);
        var pb = new ProcessBuilder(command);
        pb.environment().put("PYTHONPATH", client + ":" + metadata);
        pb.redirectError(dir.resolve("qubes.err").toFile());
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(1, TimeUnit.MINUTES)).as("Qubes' qvm-firewall %s finishes", args).isTrue();
        return new CliRun(p.exitValue(), out, Files.readString(dir.resolve("qubes.err")));
    }

    /** How a run ended: done without error output, a usage error, or a failure; and the error's message. */
    record Outcome(String kind, String message) {
        static Outcome of(CliRun r) {
            String err = r.err().strip();
            if (err.isEmpty()) {
                return new Outcome("done", "");
            }
            String last = err.substring(err.lastIndexOf('\n') + 1);
            if (err.startsWith("usage:")) {
                return new Outcome("usage error", last.substring(last.indexOf(": error: ") + 9));
            }
            // Qubes' tool prints "Error: MESSAGE", or a Python traceback ending "SomeError: MESSAGE"
            return new Outcome("failure", last.substring(last.indexOf(": ") + 2));
        }
    }

    /** The rules stored for a qube, as admin.vm.firewall.Get answers. */
    private String stored(String qube) {
        return new AdminClient(new AdminSocket(daemon.socket)).call(qube, "admin.vm.firewall.Get", null, null).text();
    }

    /**
     * One step on both sides.
     *
     * @param sameMessage whether the error messages must be the same too (not where Qubes' tool fails with a
     *                    Python error of its own, or where its argument parser words a message in its own way)
     */
    private void step(int code, boolean sameMessage, String... args) throws IOException, InterruptedException {
        List<String> theirArgs = new ArrayList<>();
        List<String> ourArgs = new ArrayList<>();
        for (String a : args) {
            theirArgs.add(a.equals("QUBE") ? "theirs" : a);
            ourArgs.add(a.equals("QUBE") ? "ours" : a);
        }
        CliRun theirs = qubes(theirArgs);
        CliRun ours = daemon.run("qvm-firewall", ourArgs.toArray(String[]::new));
        String what = String.join(" ", args);

        assertThat(theirs.code()).as("Qubes' exit code for %s; its error output: %s", what, theirs.err())
                .isEqualTo(code);
        assertThat(ours.code()).as("our exit code for %s; our error output: %s", what, ours.err()).isEqualTo(code);
        assertThat(ours.out()).as("standard output of %s", what).isEqualTo(theirs.out());
        Outcome theirOutcome = Outcome.of(theirs);
        Outcome ourOutcome = Outcome.of(ours);
        assertThat(ourOutcome.kind()).as("how %s ends; Qubes: %s; ours: %s", what, theirs.err(), ours.err())
                .isEqualTo(theirOutcome.kind());
        if (sameMessage) {
            assertThat(ourOutcome.message()).as("error message of %s; Qubes: %s", what, theirs.err())
                    .isEqualTo(theirOutcome.message());
        }
        assertThat(stored("ours")).as("rules stored after %s", what).isEqualTo(stored("theirs"));
    }

    @Test
    void addDelListRawReset_printTheSame_endTheSame_andStoreTheSameRules() throws Exception {
        step(0, true, "QUBE");
        step(0, true, "QUBE", "--raw");
        step(0, true, "QUBE", "add", "accept", "10.1.2.3", "tcp", "443");
        step(0, true, "QUBE", "add", "--before", "0", "drop", "dsthost=qubes-os.org", "comment=no updates");
        step(0, true, "QUBE", "add", "accept", "192.168.0.0/24", "comment=Allow LAN");
        step(0, true, "QUBE", "add", "drop", "proto=icmp", "icmptype=8");
        step(0, true, "QUBE", "add", "action=accept", "specialtarget=dns");
        step(0, true, "QUBE", "add", "accept", "2001:db8::1", "udp", "53-54");
        step(0, true, "QUBE", "add", "dst6=2001:db8::/32", "accept");
        step(0, true, "QUBE", "add", "drop", "0.0.0.0/0", "tcp", "25");
        step(0, true, "QUBE", "add", "dstports=22", "accept", "proto=tcp", "dst4=10.9.0.0/16");
        step(0, true, "QUBE", "list");
        step(0, true, "QUBE", "--raw", "list");
        step(0, true, "QUBE", "--raw", "--reload", "list");
        step(0, true, "-r", "QUBE");
        step(0, true, "QUBE", "add", "accept", "expire=4102444800", "proto=tcp", "dstports=8080");
        step(0, true, "QUBE", "--raw");
        step(0, true, "QUBE", "del", "accept", "proto=tcp", "dstports=8080", "expire=4102444800");
        step(0, true, "QUBE", "del", "--rule-no", "1");
        step(0, true, "QUBE", "del", "drop", "proto=icmp", "icmptype=8");
        step(0, true, "QUBE", "del", "accept", "10.1.2.3", "tcp", "443");
        step(0, true, "QUBE", "del", "--rule-no", "-1");
        step(0, true, "QUBE", "add", "--before", "-1", "drop", "10.0.0.0/8");
        step(0, true, "QUBE", "add", "--before", "99", "drop", "172.16.0.0/12", "icmp");
        step(0, true, "QUBE");
        step(0, true, "QUBE", "reset");
        step(0, true, "QUBE");
        step(0, true, "QUBE", "--raw");
    }

    @Test
    void badRules_failTheSameWay_andStoreNothing() throws Exception {
        step(0, true, "QUBE", "add", "drop", "10.0.0.1");
        step(2, true, "QUBE", "add", "dsthost=", "accept");
        step(2, true, "QUBE", "add", "accept", "dstports=");
        step(2, true, "QUBE", "add", "accept", "foo=bar");
        step(2, true, "QUBE", "add", "accept", "a=b=c");
        step(2, true, "QUBE", "add", "accept", "comment=a=b");
        step(2, true, "QUBE", "add");
        step(1, true, "QUBE", "add", "accept", "1.2.3.4", "tcp", "99999");
        step(1, true, "QUBE", "add", "drop", "dsthost=1.2.3.4", "dstports=80");
        step(1, true, "QUBE", "add", "accept", "1.2.3.4", "icmp", "300");
        step(1, true, "QUBE", "add", "accept", "127/8");
        step(1, true, "QUBE", "add", "accept", "1.2.3.4/33");
        step(1, true, "QUBE", "add", "accept", "Www.example.com");
        step(1, true, "QUBE", "add", "accept", "1.2.3.4", "tcp", "100-20");
        step(1, false, "QUBE", "add", "allow");
        step(1, false, "QUBE", "add", "accept", "1.2.3.4", "tcp", "80", "extra");
        step(1, false, "QUBE", "add", "accept", "comment=100%");
        step(1, false, "QUBE", "del", "--rule-no", "99");
        step(1, false, "QUBE", "del", "drop", "9.9.9.9");
        step(1, false, "QUBE", "del");
        step(2, false, "QUBE", "add", "--before", "x", "accept");
        step(2, true, "QUBE", "frob");
        step(2, false, "QUBE", "list", "--raw");
        step(2, true, "nope");
        step(2, true, "nope", "add", "accept");
        step(1, true, "dom0");
        step(1, true, "dom0", "reset");
        step(1, true, "dom0", "add", "drop");
        step(0, true, "QUBE", "--raw");
    }
}
