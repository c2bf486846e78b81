package compart.core.qubesdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The unmodified upstream VM-side {@code qubesdb-daemon} and {@code qubesdb-*} tools, compiled from the upstream
 * tarball, against {@link QubesDbServer}. Only the transport differs from a qube: libvchan is replaced by
 * {@code src/test/c/vchan-over-socket/vchan-over-socket.c} (a Unix socket), and the daemon runs in its own mount
 * namespace with a private {@code /run} for its local socket. Skipped without gcc, the sources, or root for
 * {@code unshare -m}.
 */
class UpstreamGuestDaemonTest {
    private static final Path BIN = UpstreamQubesDb.TARGET.resolve("guest-bin");
    private static final Path SOCKET = UpstreamQubesDb.TARGET.resolve("vchan.sock");
    private static boolean usable;

    private QubesDbServer server;
    private UnixSocketListener listener;
    private final List<Process> daemons = new ArrayList<>();

    @BeforeAll
    static void build() throws Exception {
        usable = UpstreamQubesDb.available() && canUnshare();
        if (!usable) {
            return;
        }
        var qdb = UpstreamQubesDb.unpacked(UpstreamQubesDb.QUBESDB);
        var vchan = UpstreamQubesDb.unpacked(UpstreamQubesDb.VCHAN).resolve("vchan");
        Path shim = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
                .resolve("src/test/c");
        Files.createDirectories(BIN);
        var cmd = new ArrayList<>(List.of("gcc", "-O1", "-DHAVE_SYSTEMD", "-I", shim.resolve("qubesdb-guest").toString(), "-I",
                vchan.toString(), "-I", qdb.resolve("include").toString(), "-I", qdb.resolve("daemon").toString(),
                "-o", BIN.resolve("qubesdb-daemon").toString()));
        for (String c : List.of("db-daemon.c", "db-cmds.c", "db-core.c", "buffer.c")) {
            cmd.add(qdb.resolve("daemon").resolve(c).toString());
        }
        cmd.add(shim.resolve("vchan-over-socket/vchan-over-socket.c").toString());
        UpstreamQubesDb.run(cmd);
        UpstreamQubesDb.run(List.of("gcc", "-O1", "-I", qdb.resolve("include").toString(), "-o",
                BIN.resolve("qubesdb-cmd").toString(), qdb.resolve("client/qubesdb-cmd.c").toString(),
                qdb.resolve("client/qdb-client.c").toString()));
        for (String tool : List.of("read", "write", "rm")) {
            Path link = BIN.resolve("qubesdb-" + tool);
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, BIN.resolve("qubesdb-cmd"));
        }
    }

    private static boolean canUnshare() {
        try {
            UpstreamQubesDb.run(List.of("unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /run"));
            return true;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private void serve(Map<String, String> entries) throws IOException {
        assumeTrue(usable, UpstreamQubesDb.missing() + ", and root for unshare -m");
        listener = new UnixSocketListener(SOCKET);
        server = QubesDbServer.create("work", new TreeMap<>(entries), "c2VlZA==");
        server.serve(listener);
    }

    /** Starts the qube's daemon (VM mode: remote domain 0) and waits until it has read the database. */
    private Process startDaemon() throws IOException {
        var pb = new ProcessBuilder("unshare", "-m", "sh", "-c",
                "mount -t tmpfs tmpfs /run && mkdir -p /run/qubes && exec \"$0\" 0",
                BIN.resolve("qubesdb-daemon").toString());
        pb.environment().put("QDB_VCHAN_SOCKET", SOCKET.toString());
        pb.environment().put("NOTIFY_SOCKET", "/nonexistent");
        pb.redirectErrorStream(true).redirectOutput(UpstreamQubesDb.TARGET.resolve("guest-daemon.log").toFile());
        var p = pb.start();
        daemons.add(p);
        QdbPeer.await(server::synced);
        QdbPeer.await(() -> guest(p, "read", "/name").exitCode == 0);
        return p;
    }

    private record Result(int exitCode, String output) {
    }

    /** Runs {@code qubesdb-<tool>} inside the daemon's mount namespace, as a program in the qube would. */
    private static Result guest(Process daemon, String tool, String... args) {
        var cmd = new ArrayList<>(List.of("nsenter", "-t", Long.toString(daemon.pid()), "-m",
                BIN.resolve("qubesdb-" + tool).toString()));
        cmd.addAll(List.of(args));
        try {
            var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, out);
            }
            return new Result(p.exitValue(), out.strip());
        } catch (IOException e) {
            return new Result(-1, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }

    @AfterEach
    void stop() throws Exception {
        for (var p : daemons) {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
        if (listener != null) {
            listener.close();
        }
    }

    @Test
    void theQubesTools_readWhatDom0Wrote() throws Exception {
        serve(Map.of("/name", "work", "/qubes-ip", "10.137.0.3", "/qubes-vm-type", "AppVM"));
        var daemon = startDaemon();
        assertThat(guest(daemon, "read", "/name")).isEqualTo(new Result(0, "work"));
        assertThat(guest(daemon, "read", "/qubes-ip")).isEqualTo(new Result(0, "10.137.0.3"));
        assertThat(guest(daemon, "read", "/qubes-random-seed")).isEqualTo(new Result(0, "c2VlZA=="));
    }

    @Test
    void dom0sChanges_reachTheQube_andWhatTheQubeWrites_reachesDom0() throws Exception {
        serve(Map.of("/name", "work", "/qubes-service/cups", "1"));
        var daemon = startDaemon();
        server.update(new TreeMap<>(Map.of("/name", "work", "/qubes-service/crond", "1")));
        QdbPeer.await(() -> guest(daemon, "read", "/qubes-service/crond").equals(new Result(0, "1")));
        QdbPeer.await(() -> guest(daemon, "read", "/qubes-service/cups").exitCode() != 0);

        assertThat(guest(daemon, "write", "/qubes-firewall-handled/10.137.0.3", "1").exitCode()).isZero();
        QdbPeer.await(() -> server.db().read("/qubes-firewall-handled/10.137.0.3").isPresent());
        assertThat(server.db().read("/qubes-firewall-handled/10.137.0.3")).contains("1");
    }

    @Test
    void anEntryTheQubeRemoved_isNotRemovedAgainByDom0_soItsDaemonLives() throws Exception {
        serve(Map.of("/name", "work", "/qubes-service/cups", "1"));
        var daemon = startDaemon();
        assertThat(guest(daemon, "rm", "/qubes-service/cups").exitCode()).isZero();
        QdbPeer.await(() -> server.db().read("/qubes-service/cups").isEmpty());
        server.update(new TreeMap<>(Map.of("/name", "renamed")));
        QdbPeer.await(() -> guest(daemon, "read", "/name").equals(new Result(0, "renamed")));
        assertThat(daemon.isAlive()).isTrue();
        assertThat(server.drops()).isZero();
    }

    @Test
    void aRestartedDaemon_readsEverythingAgain_includingWhatTheQubeWrote() throws Exception {
        serve(Map.of("/name", "work"));
        var first = startDaemon();
        assertThat(guest(first, "write", "/from-the-qube", "kept").exitCode()).isZero();
        QdbPeer.await(() -> server.db().read("/from-the-qube").isPresent());
        first.destroy();
        assertThat(first.waitFor(10, TimeUnit.SECONDS)).isTrue();
        QdbPeer.await(() -> !server.synced());

        var second = startDaemon();
        assertThat(guest(second, "read", "/from-the-qube")).isEqualTo(new Result(0, "kept"));
        assertThat(server.connections()).isEqualTo(2);
        assertThat(server.drops()).isZero();
    }
}
