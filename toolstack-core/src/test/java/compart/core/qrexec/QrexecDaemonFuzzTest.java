package compart.core.qrexec;

import static org.assertj.core.api.Assertions.assertThat;

import compart.errors.CompartException;
import compart.policy.Policy;
import compart.policy.QubeInfo;
import compart.policy.SystemInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing of compartd's qrexec daemon from a qube's side: an agent that sends every message type with malformed
 * lengths and payloads. Whatever it sends, the daemon answers with {@code MSG_SERVICE_REFUSED}, ignores it, or
 * drops that qube's channel only; another qube's calls are decided all along. Runs without Xen or upstream code
 * (the control channels are Unix sockets, {@link SocketVchanTransport}).
 */
class QrexecDaemonFuzzTest {
    private static final int[] TYPES = {0x190, 0x191, 0x192, 0x193, 0x200, 0x201, 0x202, 0x203, 0x210, 0x211, 0x212,
            0x213, 0x300};
    private static final int ITERATIONS = 4000;

    private Path dir;
    private QrexecRouter router;

    @AfterEach
    void tearDown() throws Exception {
        if (router != null) {
            router.close();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted((a, b) -> b.compareTo(a)).forEach(f -> f.toFile().delete());
            }
        }
    }

    /**
     * The outcome of one frame, as the sending qube sees it: refused (a refusal before the probe's), ignored (only
     * the probe's call was answered, as every call is denied here), or the channel dropped.
     */
    enum Outcome { REFUSED, IGNORED, DROPPED }

    @Test
    void malformedMessagesOfEveryType_areRefusedIgnoredOrDropOnlyThatQube_theOtherQubeIsServedThroughout()
            throws Exception {
        dir = Files.createTempDirectory("cqf");
        var policy = Policy.parse("test.Echo * @anyvm @anyvm deny\n", "30-test.policy", dir);
        var system = SystemInfo.of(List.of(new QubeInfo("fuzz", "AppVM", Set.of(), false, null, "Running",
                "00000000-0000-0000-0000-000000000020", false, null, null, null), new QubeInfo("steady", "AppVM",
                Set.of(), false, null, "Running", "00000000-0000-0000-0000-000000000021", false, null, null, null)));
        router = new QrexecRouter(new SocketVchanTransport(dir), () -> policy, () -> system, r -> { });
        var steady = new FakeAgentEnd(dir, 21);
        router.attach("steady", 21, Duration.ofSeconds(20));
        var random = new Random(19);
        var outcomes = new TreeMap<String, Integer>();
        FakeAgentEnd fuzz = null;
        long t0 = System.nanoTime();
        for (int i = 0; i < ITERATIONS; i++) {
            if (fuzz == null) {
                fuzz = new FakeAgentEnd(dir, 20);
                router.attach("fuzz", 20, Duration.ofSeconds(20));
            }
            boolean known = random.nextInt(10) != 0;
            int type = known ? TYPES[random.nextInt(TYPES.length)] : random.nextInt();
            fuzz.writeRaw(frame(type, random));
            Outcome o = probe(fuzz, "PROBE" + i);
            outcomes.merge((known ? String.format("0x%x", type) : "unknown") + " " + o, 1, Integer::sum);
            if (o == Outcome.DROPPED) {
                UpstreamQrexecAgentTest.await(() -> !router.connected("fuzz"));
                fuzz.close();
                fuzz = null;
            }
            if (i % 200 == 0) {
                assertThat(probe(steady, "STEADY" + i)).as("the other qube's call after frame " + i)
                        .isEqualTo(Outcome.IGNORED);
            }
        }
        assertThat(probe(steady, "STEADY-END")).isEqualTo(Outcome.IGNORED);
        assertThat(router.connected("steady")).isTrue();
        System.out.printf("qrexec daemon fuzz: %d frames in %.1f s; outcomes by type: %s%n", ITERATIONS,
                (System.nanoTime() - t0) / 1e9, outcomes);
        if (fuzz != null) {
            fuzz.close();
        }
        steady.close();
    }

    /**
     * Sends a valid, denied call after the frame: a REFUSED answer naming it (possibly after a refusal of the
     * frame itself) means the channel is up, the end of the stream means it was dropped.
     */
    private static Outcome probe(FakeAgentEnd agent, String ident) throws Exception {
        var stream = agent.stream();
        try {
            stream.write(new Message.TriggerService(4, "", "other", ident, "test.Echo"));
        } catch (CompartException e) {
            return Outcome.DROPPED;
        }
        var answers = new ArrayBlockingQueue<Object>(16);
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    Message m = stream.read();
                    answers.add(m == null ? "eof" : m);
                    if (m == null || m instanceof Message.ServiceRefused(String id) && id.equals(ident)) {
                        return;
                    }
                }
            } catch (CompartException e) {
                answers.add("eof");
            }
        });
        boolean refusedBefore = false;
        while (true) {
            Object a = answers.poll(20, TimeUnit.SECONDS);
            assertThat(a).as("an answer to " + ident).isNotNull();
            if (a.equals("eof")) {
                reader.join();
                return Outcome.DROPPED;
            }
            if (a instanceof Message.ServiceRefused(String id) && id.equals(ident)) {
                reader.join();
                return refusedBefore ? Outcome.REFUSED : Outcome.IGNORED;
            }
            assertThat(a).as("dom0 answers a qube only with refusals").isInstanceOf(Message.ServiceRefused.class);
            refusedBefore = true;
        }
    }

    /** A frame of {@code type}: a length at a boundary, above the limit or random, with random or mutated bytes. */
    private static byte[] frame(int type, Random random) {
        byte[] payload = switch (random.nextInt(6)) {
            case 0 -> new byte[0];
            case 1 -> new byte[random.nextInt(9)];
            case 2 -> new byte[96 + random.nextInt(70)];
            case 3 -> mutatedTrigger(random);
            case 4 -> new byte[160 + random.nextInt(200)];
            default -> new byte[random.nextInt(600)];
        };
        if (random.nextBoolean() && payload.length > 0) {
            for (int k = 0; k < 1 + random.nextInt(8); k++) {
                payload[random.nextInt(payload.length)] = (byte) random.nextInt(256);
            }
        }
        int declared = payload.length;
        if (random.nextInt(8) == 0) {
            declared = 65536 * 2 + random.nextInt(1 << 20); // above every limit: refused from the header alone
            if (random.nextBoolean()) {
                declared = -1 - random.nextInt(1000);
            }
        }
        return ByteBuffer.allocate(8 + payload.length).order(ByteOrder.LITTLE_ENDIAN).putInt(type).putInt(declared)
                .put(payload).array();
    }

    private static byte[] mutatedTrigger(Random random) {
        byte[] wire = MessageCodec.encode(new Message.TriggerService(4, "", "target", "SOCKET" + random.nextInt(99),
                "test.Echo+" + random.nextInt(1000)));
        byte[] payload = new byte[wire.length - 8];
        System.arraycopy(wire, 8, payload, 0, payload.length);
        return payload;
    }
}
