package compart.core.qubesdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** dom0's QubesDB server for one qube, over in-process pipes, as the qube's daemon sees it. */
class QubesDbServerTest {
    private static final String SEED = "c2VlZA==";
    private final PipeLinks pipes = new PipeLinks();
    private QubesDbServer server;

    private static SortedMap<String, String> entries(Map<String, String> m) {
        return new TreeMap<>(m);
    }

    private QdbPeer serve(Map<String, String> initial) {
        server = QubesDbServer.create("work", entries(initial), SEED);
        server.serve(pipes);
        return new QdbPeer(pipes.connect());
    }

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aConnectingDaemon_readsEveryEntryInReverseOrder_thenAnEmptyTerminator() {
        var qube = serve(Map.of("/name", "work", "/qubes-ip", "10.137.0.3"));
        assertThat(qube.multiread()).containsExactly(
                QdbMessage.of(QdbType.RESP_MULTIREAD, "/qubes-random-seed", SEED),
                QdbMessage.of(QdbType.RESP_MULTIREAD, "/qubes-ip", "10.137.0.3"),
                QdbMessage.of(QdbType.RESP_MULTIREAD, "/name", "work"));
        QdbPeer.await(server::synced);
    }

    @Test
    void changesBeforeTheDaemonReads_goIntoTheDump_changesAfter_arePushedAsWriteAndRm() {
        var qube = serve(Map.of("/name", "work", "/qubes-service/cups", "1"));
        assertThat(server.update(entries(Map.of("/name", "work", "/qubes-service/crond", "1")))).isZero();
        assertThat(qube.multiread()).extracting(QdbMessage::path)
                .containsExactly("/qubes-service/crond", "/qubes-random-seed", "/name");
        QdbPeer.await(server::synced);
        assertThat(server.update(entries(Map.of("/name", "work", "/qubes-service/cups", "0")))).isEqualTo(2);
        assertThat(qube.receive()).isEqualTo(QdbMessage.of(QdbType.RM, "/qubes-service/crond"));
        assertThat(qube.receive()).isEqualTo(QdbMessage.of(QdbType.WRITE, "/qubes-service/cups", "0"));
    }

    @Test
    void whatTheQubeWrites_isKeptAndAnsweredOk_andAnEntryItRemoved_isNeverRemovedAgainByDom0() {
        var qube = serve(Map.of("/name", "work", "/qubes-service/cups", "1"));
        qube.multiread();
        qube.send(QdbMessage.of(QdbType.WRITE, "/qubes-firewall-handled/10.137.0.3", "1"));
        assertThat(qube.receive()).isEqualTo(QdbMessage.of(QdbType.RESP_OK, "/qubes-firewall-handled/10.137.0.3"));
        qube.send(QdbMessage.of(QdbType.RM, "/qubes-service/cups"));
        assertThat(qube.receive()).isEqualTo(QdbMessage.of(QdbType.RESP_OK, "/qubes-service/cups"));
        assertThat(server.db().snapshot()).contains(entry("/qubes-firewall-handled/10.137.0.3", "1"))
                .doesNotContainKey("/qubes-service/cups");
        // dom0 drops the service: the qube has no such entry, and an RM of it would make its daemon exit
        assertThat(server.update(entries(Map.of("/name", "work")))).isZero();
        assertThat(server.db().snapshot()).containsKeys("/qubes-firewall-handled/10.137.0.3", "/name");
    }

    @Test
    void aFailedRmFromTheQube_isAnsweredWithAPlainError_whichItsDaemonIgnores() {
        var qube = serve(Map.of("/name", "work"));
        qube.multiread();
        qube.send(QdbMessage.of(QdbType.RM, "/no-such-entry"));
        assertThat(qube.receive()).isEqualTo(QdbMessage.of(QdbType.RESP_ERROR, "/no-such-entry"));
        qube.send(QdbMessage.of(QdbType.RM, "/name"));
        assertThat(qube.receive()).isEqualTo(QdbMessage.of(QdbType.RESP_OK, "/name"));
    }

    @Test
    void aWriteWithANulByte_isRefusedWithAnError_andTheConnectionStays() {
        var qube = serve(Map.of("/name", "work"));
        qube.multiread();
        var bad = QdbCodec.encode(QdbMessage.of(QdbType.WRITE, "/x", "ab"));
        bad[QdbCodec.HEADER_SIZE] = 0;
        qube.sendRaw(bad);
        assertThat(qube.receive()).isEqualTo(QdbMessage.of(QdbType.RESP_ERROR, "/x"));
        qube.send(QdbMessage.of(QdbType.WRITE, "/x", "ok"));
        assertThat(qube.receive()).isEqualTo(QdbMessage.of(QdbType.RESP_OK, "/x"));
    }

    @Test
    void aSecondMultiread_endsTheConnection_andARestartedDaemonReadsEverythingAgain() {
        var qube = serve(Map.of("/name", "work"));
        qube.multiread();
        qube.send(QdbMessage.of(QdbType.WRITE, "/from-the-qube", "kept"));
        assertThat(qube.receive().type()).isEqualTo(QdbType.RESP_OK);
        qube.send(QdbMessage.of(QdbType.MULTIREAD, ""));
        assertThat(qube.ended()).isTrue();
        QdbPeer.await(() -> server.drops() == 1);
        server.update(entries(Map.of("/name", "work", "/qubes-service/cups", "1")));

        var restarted = new QdbPeer(pipes.connect());
        assertThat(restarted.multiread()).extracting(QdbMessage::path).containsExactly("/qubes-service/cups",
                "/qubes-random-seed", "/name", "/from-the-qube");
        QdbPeer.await(() -> server.connections() == 2 && server.synced());
    }

    @Test
    void aQubeThatStopsReading_losesItsConnection_andDom0NeverWaitsForIt() {
        var qube = serve(Map.of("/name", "work"));
        qube.multiread();
        int writes = 0;
        try {
            while (writes < 100_000) { // each is answered; the qube reads none of the answers
                qube.send(QdbMessage.of(QdbType.WRITE, "/flood", Integer.toString(writes)));
                writes++;
            }
        } catch (RuntimeException closedByDom0) {
            // the server gave up on this qube
        }
        QdbPeer.await(() -> server.drops() == 1);
        assertThat(server.update(entries(Map.of("/name", "renamed")))).isZero();
        System.out.println("flooding qube: " + writes + " writes sent before dom0 dropped it; "
                + QdbConnection.MAX_QUEUED_BYTES + " bytes of answers may wait");
    }

    @Test
    void aFirewallReload_removesTheClientsRules_writesThemAgain_andTheCompleteSignalLast() {
        var qube = serve(Map.of("/qubes-firewall/10.137.0.3", "", "/qubes-firewall/10.137.0.3/0000", "action=drop",
                "/qubes-firewall/10.137.0.3/policy", "drop", "/qubes-firewall/10.137.0.30/policy", "drop"));
        qube.multiread();
        QdbPeer.await(server::synced);
        assertThat(server.reloadFirewall("10.137.0.3")).isEqualTo(4);
        assertThat(List.of(qube.receive(), qube.receive(), qube.receive(), qube.receive())).containsExactly(
                QdbMessage.of(QdbType.RM, "/qubes-firewall/10.137.0.3/"),
                QdbMessage.of(QdbType.WRITE, "/qubes-firewall/10.137.0.3/0000", "action=drop"),
                QdbMessage.of(QdbType.WRITE, "/qubes-firewall/10.137.0.3/policy", "drop"),
                QdbMessage.of(QdbType.WRITE, "/qubes-firewall/10.137.0.3", ""));
        assertThat(server.reloadFirewall("10.137.0.99")).isZero();
    }

    @Test
    void theQubeSendingAResponseNobodyAskedFor_losesItsConnection() {
        var qube = serve(Map.of("/name", "work"));
        qube.multiread();
        qube.send(QdbMessage.of(QdbType.RESP_MULTIREAD, "/name", "forged"));
        assertThat(qube.ended()).isTrue();
        QdbPeer.await(() -> server.drops() == 1);
        assertThat(server.db().read("/name")).contains("work");
    }
}
