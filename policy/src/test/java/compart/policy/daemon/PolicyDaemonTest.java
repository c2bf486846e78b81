package compart.policy.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import compart.policy.Policy;
import compart.policy.QubeInfo;
import compart.policy.SystemInfo;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon on a real unix socket, spoken to exactly as Qubes' qrexec-daemon (C) speaks: the request bytes of
 * its {@code send_request_to_daemon}, the answer checked by the rules of its {@code parse_policy_response}.
 */
class PolicyDaemonTest {
    @TempDir
    Path tmp;

    Path socket;
    PolicyDaemon daemon;

    static final SystemInfo SYSTEM = SystemInfo.of(List.of(
            new QubeInfo("work", "AppVM", Set.of(), false, "dvm", "Running", "11111111-0000-0000-0000-000000000001",
                    false, "dom0", null, null),
            new QubeInfo("vault", "AppVM", Set.of(), false, null, "Halted", "11111111-0000-0000-0000-000000000002",
                    false, "dom0", null, null),
            new QubeInfo("dvm", "AppVM", Set.of(), true, null, "Halted", "11111111-0000-0000-0000-000000000003",
                    false, "dom0", null, null)));

    @BeforeEach
    void start() {
        socket = tmp.resolve("policy.sock");
        Policy policy = Policy.parse("""
                qubes.Gpg   *  work  vault    allow
                qubes.Ask   *  work  @anyvm   ask
                qubes.Disp  *  work  @dispvm  allow
                *           *  @anyvm @anyvm  deny
                """, "30-test.policy", tmp);
        daemon = new PolicyDaemon(socket, () -> policy, () -> SYSTEM, Duration.ofMillis(500));
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    /** The request as qrexec-daemon.c formats it. */
    static String cRequest(String source, String requestedSource, String target, String service) {
        return "source=" + source + (requestedSource == null ? "" : "\nrequested_source=" + requestedSource)
                + "\nintended_target=" + target + "\nservice_and_arg=" + service + "\n\n";
    }

    /** @return the answer, or null when the daemon closed the connection without one */
    String ask(String request) throws IOException {
        return ask(request.getBytes(StandardCharsets.US_ASCII));
    }

    String ask(byte[] request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer b = ByteBuffer.wrap(request);
            try {
                while (b.hasRemaining()) ch.write(b);
            } catch (IOException closedOnUs) {
                return null;
            }
            try (InputStream in = Channels.newInputStream(ch)) {
                byte[] got = in.readAllBytes();
                return got.length == 0 ? null : new String(got, StandardCharsets.US_ASCII);
            } catch (IOException reset) {
                return null;
            }
        }
    }

    /** The checks of qrexec-daemon.c's parse_policy_response: known keys once, and the keys each result needs. */
    static Map<String, String> parseLikeQrexecDaemon(String response) {
        assertThat(response).isNotEmpty().doesNotContain("\0");
        String r = response.endsWith("\n") ? response.substring(0, response.length() - 1) : response;
        Map<String, String> kv = new HashMap<>();
        for (String line : r.split("\n", -1)) {
            int eq = line.indexOf('=');
            assertThat(eq).as("line %s", line).isPositive();
            assertThat(kv.put(line.substring(0, eq), line.substring(eq + 1))).as("duplicate %s", line).isNull();
        }
        assertThat(kv.get("result")).isIn("allow", "deny");
        if (kv.get("result").equals("allow")) {
            assertThat(kv).containsKeys("user", "target", "requested_target", "autostart");
            assertThat(kv.get("autostart")).isIn("True", "False");
        } else {
            assertThat(kv).doesNotContainKeys("user", "target", "requested_target", "autostart");
        }
        return kv;
    }

    @Test
    void allow_answersWhatQrexecDaemonNeeds() throws IOException {
        String answer = ask(cRequest("work", null, "vault", "qubes.Gpg"));
        assertThat(answer).isEqualTo("user=DEFAULT\nresult=allow\ntarget=vault\ntarget_uuid=uuid:"
                + "11111111-0000-0000-0000-000000000002\nautostart=True\nrequested_target=vault");
        assertThat(parseLikeQrexecDaemon(answer)).containsEntry("target", "vault");
    }

    @Test
    void dispvm_isAnsweredWithTheTemplate() throws IOException {
        var kv = parseLikeQrexecDaemon(ask(cRequest("work", null, "@dispvm", "qubes.Disp+x")));
        assertThat(kv).containsEntry("target", "@dispvm:dvm")
                .containsEntry("target_uuid", "@dispvm:uuid:11111111-0000-0000-0000-000000000003");
    }

    @Test
    void deny_andInteractiveAsk_answerResultDeny() throws IOException {
        assertThat(ask(cRequest("vault", null, "work", "qubes.Gpg"))).isEqualTo("result=deny");
        assertThat(ask(cRequest("work", null, "vault", "qubes.Ask"))).isEqualTo("result=deny");
    }

    @Test
    void assumeYesForAsk_andJustEvaluate_followThePythonDaemon() throws IOException {
        String base = "source=work\nintended_target=vault\nservice_and_arg=qubes.Ask\n";
        assertThat(parseLikeQrexecDaemon(ask(base + "assume_yes_for_ask=yes\n\n"))).containsEntry("target", "vault");
        assertThat(ask(base + "assume_yes_for_ask=yes\njust_evaluate=yes\n\n")).isEqualTo("result=allow");
        assertThat(ask(base + "just_evaluate=yes\n\n")).isEqualTo("result=deny");
    }

    @Test
    void malformedRequests_closeTheConnectionWithoutAnAnswer() throws IOException {
        assertThat(ask("source=work\nbogus=1\nintended_target=vault\nservice_and_arg=qubes.Gpg\n\n")).isNull();
        assertThat(ask("source=work\nsource=vault\nintended_target=vault\nservice_and_arg=qubes.Gpg\n\n")).isNull();
        assertThat(ask("source=work\nintended_target=vault\n\n")).isNull();
        assertThat(ask("source=work\nintended_target=vault\nservice_and_arg=qubes.Gpg\njust_evaluate=1\n\n"))
                .isNull();
        assertThat(ask("no equals sign\n\n")).isNull();
        assertThat(ask("source=w\u00e9rk\nintended_target=vault\nservice_and_arg=qubes.Gpg\n\n"
                .getBytes(StandardCharsets.UTF_8))).as("not ASCII").isNull();
        assertThat(daemon.dropped()).isEqualTo(6);
        assertThat(ask(cRequest("work", null, "vault", "qubes.Gpg"))).contains("result=allow");
    }

    @Test
    void oversizedRequest_isDropped() throws IOException {
        byte[] big = ("source=" + "a".repeat(PolicyDaemon.MAX_REQUEST + 10)).getBytes(StandardCharsets.US_ASCII);
        assertThat(ask(big)).isNull();
        assertThat(ask(cRequest("work", null, "vault", "qubes.Gpg"))).contains("result=allow");
    }

    @Test
    void stalledClient_isDropped_whileOthersAreServed() throws Exception {
        try (SocketChannel staller = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            staller.connect(UnixDomainSocketAddress.of(socket));
            staller.write(ByteBuffer.wrap("source=work\n".getBytes(StandardCharsets.US_ASCII)));
            assertThat(ask(cRequest("work", null, "vault", "qubes.Gpg"))).contains("result=allow");
            ByteBuffer b = ByteBuffer.allocate(16);
            assertThat(staller.read(b)).as("the daemon closes the stalled connection").isEqualTo(-1);
        }
        // the serving thread counts the drop just after closing the connection
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (daemon.dropped() == 0 && System.nanoTime() < deadline) Thread.onSpinWait();
        assertThat(daemon.dropped()).isEqualTo(1);
    }

    @Test
    void socket_isMode0660() throws IOException {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-rw----");
    }

    @Test
    void tenThousandRequests_fromEightClients_allAnsweredRight() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                final int client = c;
                results.add(pool.submit(() -> {
                    int ok = 0;
                    for (int i = 0; i < 1250; i++) {
                        boolean allow = (i + client) % 2 == 0;
                        String answer = ask(cRequest(allow ? "work" : "vault", null, allow ? "vault" : "work",
                                "qubes.Gpg+" + i));
                        if (allow ? answer.startsWith("user=DEFAULT\nresult=allow\ntarget=vault\n")
                                : answer.equals("result=deny")) {
                            ok++;
                        }
                    }
                    return ok;
                }));
            }
            int ok = 0;
            for (Future<Integer> f : results) ok += f.get();
            assertThat(ok).isEqualTo(10_000);
            assertThat(daemon.answered()).isEqualTo(10_000);
            assertThat(daemon.dropped()).isZero();
        } finally {
            pool.shutdownNow();
        }
    }
}
