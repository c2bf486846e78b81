package compart.core.testing;

import compart.core.daemon.Compartd;
import compart.core.hypervisor.test.TestHypervisor;
import compart.core.ops.Toolstack;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import picocli.CommandLine;

/**
 * One compartd on the simulated ({@code test}) hypervisor for one test, started as its command line would start it:
 * {@code compartd --hypervisor test --socket DIR/qubesd.sock --state-dir DIR/state --policy-dir DIR/policy.d}, in a
 * fresh temporary directory {@code DIR}. The policy directory exists and holds no rules unless {@link #policy} gives
 * some, so every call from a qube is refused (the host's {@code /run/qubes/policy.d} is never read).
 *
 * <p>Registered as a field, it is a JUnit 5 extension that starts the daemon before each test and closes it and
 * removes the directory after it:
 *
 * {@snippet :
 * @RegisterExtension
 * final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(8192)
 *         .withTemplate("fedora", "black")
 *         .withAppVm("work", "fedora", "blue");
 * final Wire admin = compartd.admin();
 * }
 *
 * A test that chooses the daemon's settings itself (a policy per test, a state directory on another file system)
 * registers it {@link #startedByTheTest()} and calls {@link #start()}. Not thread safe: one test uses it.
 */
public final class TestDaemon implements BeforeEachCallback, AfterEachCallback, AutoCloseable {
    private final Path dir;
    private Path stateDir;
    private Path internalSocket;
    private Long testMemoryMib;
    private String policy;
    private final List<Create> qubes = new ArrayList<>();
    private final List<List<String>> properties = new ArrayList<>();
    private boolean startsBeforeEachTest = true;
    private final List<String> options = new ArrayList<>();
    private Compartd.Running running;

    private record Create(String klass, String template, String name, String label) {
    }

    private TestDaemon(Path dir) {
        this.dir = dir;
        this.stateDir = dir.resolve("state");
    }

    /** @return a daemon, not started yet, in a new temporary directory */
    public static TestDaemon onTestHypervisor() {
        try {
            return new TestDaemon(Files.createTempDirectory("compartd-test-"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code --test-memory}: the simulated host's memory (compartd's default otherwise). */
    public TestDaemon testMemoryMib(long mib) {
        this.testMemoryMib = mib;
        return this;
    }

    /** Qrexec policy text, written to {@code policy.d/30-admin.policy} when the daemon starts. */
    public TestDaemon policy(String text) {
        this.policy = text;
        return this;
    }

    /** More options of compartd's command line, such as {@code --request-timeout 0.5}. */
    public TestDaemon option(String name, String value) {
        options.add(name);
        options.add(value);
        return this;
    }

    /** {@code --internal-socket DIR/relative} (compartd's default otherwise: beside the Admin API socket). */
    public TestDaemon internalSocket(String relative) {
        this.internalSocket = dir.resolve(relative);
        return this;
    }

    /** {@code --state-dir}: the qubes' state and default pool somewhere else than {@code DIR/state}. */
    public TestDaemon stateDir(Path stateDir) {
        this.stateDir = stateDir;
        return this;
    }

    /** A TemplateVM created through the Admin API when the daemon first starts. */
    public TestDaemon withTemplate(String name, String label) {
        qubes.add(new Create("TemplateVM", "", name, label));
        return this;
    }

    /** An AppVM on {@code template}, created through the Admin API when the daemon first starts, in this order. */
    public TestDaemon withAppVm(String name, String template, String label) {
        qubes.add(new Create("AppVM", template, name, label));
        return this;
    }

    /** The qubes most daemon tests need: the TemplateVM {@code fedora} (black) and the AppVM {@code work} (blue). */
    public TestDaemon withFedoraAndWork() {
        return withTemplate("fedora", "black").withAppVm("work", "fedora", "blue");
    }

    /**
     * The qubes of the disposable tests: the TemplateVM {@code fedora} (black), the AppVM {@code dvm-tpl} (red) with
     * {@code template_for_dispvms} set, and the AppVM {@code work} (blue) whose {@code default_dispvm} it is.
     */
    public TestDaemon withDisposableTemplate() {
        withTemplate("fedora", "black").withAppVm("dvm-tpl", "fedora", "red").withAppVm("work", "fedora", "blue");
        properties.add(List.of("template_for_dispvms", "dvm-tpl", "True"));
        properties.add(List.of("default_dispvm", "work", "dvm-tpl"));
        return this;
    }

    /** The test calls {@link #start()} itself, after choosing its settings. */
    public TestDaemon startedByTheTest() {
        this.startsBeforeEachTest = false;
        return this;
    }

    /** @return the command line's arguments after {@code compartd} */
    public List<String> arguments() {
        var args = new ArrayList<>(List.of("--hypervisor", "test", "--socket", socket().toString(),
                "--state-dir", stateDir.toString(), "--policy-dir", policyDir().toString()));
        if (testMemoryMib != null) {
            args.addAll(List.of("--test-memory", testMemoryMib.toString()));
        }
        if (internalSocket != null) {
            args.addAll(List.of("--internal-socket", internalSocket.toString()));
        }
        args.addAll(options);
        return args;
    }

    /** Starts the daemon (its policy file written first), creates the qubes {@code with…} names, sets properties. */
    public TestDaemon start() throws IOException {
        startDaemon();
        for (var q : qubes) {
            admin().ok("admin.vm.Create." + q.klass(), q.template(), "dom0",
                    "name=" + q.name() + " label=" + q.label());
        }
        for (var p : properties) {
            admin().ok("admin.vm.property.Set", p.get(0), p.get(1), p.get(2));
        }
        return this;
    }

    private void startDaemon() throws IOException {
        if (running != null) {
            throw new IllegalStateException("compartd is already running");
        }
        Files.createDirectories(policyDir());
        if (policy != null) {
            Files.writeString(policyDir().resolve("30-admin.policy"), policy);
        }
        var compartd = new Compartd();
        new CommandLine(compartd).parseArgs(arguments().toArray(String[]::new));
        running = compartd.start();
    }

    /** Closes the daemon (the simulated domains are gone with it) and starts a new one on the same state. */
    public void restart() throws IOException {
        close();
        startDaemon();
    }

    /** Closes the daemon if it runs (the directory is removed after the test). */
    @Override
    public void close() {
        if (running != null) {
            running.close();
            running = null;
        }
    }

    /** @return a client of the Admin API socket */
    public Wire admin() {
        return new Wire(socket());
    }

    /** @return a client of the internal socket: the one {@link #internalSocket} named, else the running daemon's */
    public Wire internal() {
        return new Wire(internalSocket != null ? internalSocket : running().internalServer().socket());
    }

    /** @return the running daemon's parts */
    public Compartd.Running running() {
        if (running == null) {
            throw new IllegalStateException("compartd is not running");
        }
        return running;
    }

    /** @return the running daemon's toolstack */
    public Toolstack toolstack() {
        return running().toolstack();
    }

    /** @return the simulated hypervisor, to see the domains it was given */
    public TestHypervisor hypervisor() {
        return (TestHypervisor) running().hypervisor();
    }

    /** @return the temporary directory */
    public Path dir() {
        return dir;
    }

    /** @return the Admin API socket */
    public Path socket() {
        return dir.resolve("qubesd.sock");
    }

    /** @return the state directory (the default pool is its {@code pool}) */
    public Path stateDir() {
        return stateDir;
    }

    /** @return the policy directory */
    public Path policyDir() {
        return dir.resolve("policy.d");
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        if (startsBeforeEachTest) {
            start();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
