package compart.core.qubesdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Hostile qubes: every connection of a fuzzed qube sends one kind of garbage (random bytes, malformed headers,
 * oversized or truncated data, bad paths, types of the local socket, floods) and closes. The figures: inputs
 * tried, connections dropped, whether the fuzzed qube's server still serves a well-behaved daemon, and whether
 * another qube's database changed.
 */
class QubesDbFuzzTest {
    private static final int INPUTS = 3000;
    private static final long SEED = 20261207L;

    @Test
    void garbageFromOneQube_costsItOnlyItsConnection() {
        var random = new Random(SEED);
        var fuzzedPipes = new PipeLinks();
        var otherPipes = new PipeLinks();
        var dom0Entries = new TreeMap<>(Map.of("/name", "victim", "/qubes-ip", "10.137.0.9"));
        try (var fuzzed = QubesDbServer.create("victim", dom0Entries, "c2VlZA==");
             var other = QubesDbServer.create("bystander", new TreeMap<>(Map.of("/name", "bystander")), "c2VlZA==")) {
            fuzzed.serve(fuzzedPipes);
            other.serve(otherPipes);
            var bystander = new QdbPeer(otherPipes.connect());
            bystander.multiread();
            var before = other.db().snapshot();

            var kinds = new int[8];
            for (int i = 0; i < INPUTS; i++) {
                int kind = random.nextInt(kinds.length);
                kinds[kind]++;
                try (var qube = new QdbPeer(fuzzedPipes.connect())) {
                    if (random.nextBoolean()) {
                        qube.send(QdbMessage.of(QdbType.MULTIREAD, ""));
                    }
                    qube.sendRaw(input(kind, random));
                } catch (RuntimeException closedByDom0) {
                    // dom0 closed first: that is the point
                }
            }
            QdbPeer.await(() -> fuzzed.connections() == INPUTS + 1); // every input served, the next offered

            var wellBehaved = new QdbPeer(fuzzedPipes.connect());
            var dump = wellBehaved.multiread();
            QdbPeer.await(fuzzed::synced);
            fuzzed.update(new TreeMap<>(Map.of("/name", "victim", "/qubes-ip", "10.137.0.10")));
            var pushed = wellBehaved.receive();

            System.out.printf("qubesdb fuzz (seed %d): %d inputs (random bytes %d, bad type %d, bad path %d, "
                            + "oversized length %d, truncated %d, NUL data %d, write flood %d, rm/write mix %d); "
                            + "%d channels offered, %d connections dropped by dom0; fuzzed qube served afterwards: %s "
                            + "(%d entries, push %s); other qube unchanged: %s; fuzzed db holds %d entries%n",
                    SEED, INPUTS, kinds[0], kinds[1], kinds[2], kinds[3], kinds[4], kinds[5], kinds[6], kinds[7],
                    fuzzed.connections(), fuzzed.drops(), fuzzed.synced(), dump.size(), pushed,
                    other.db().snapshot().equals(before), fuzzed.db().size());
            assertThat(pushed).isEqualTo(QdbMessage.of(QdbType.WRITE, "/qubes-ip", "10.137.0.10"));
            assertThat(fuzzed.drops()).isPositive();
            assertThat(other.db().snapshot()).isEqualTo(before);
            assertThat(other.connections()).isEqualTo(1);
            assertThat(other.synced()).isTrue();
            assertThat(fuzzed.db().size()).isLessThanOrEqualTo(QubesDb.MAX_GUEST_ENTRIES + dom0Entries.size() + 1);
        }
    }

    private static byte[] input(int kind, Random random) {
        return switch (kind) {
            case 0 -> bytes(random, random.nextInt(400));
            case 1 -> header(pick(random, 0, 3, 5, 6, 8, 10, 12, 13, 14 + random.nextInt(242)), "/x", 0);
            case 2 -> header(1, badPath(random), 1);
            case 3 -> header(1, "/big", QdbCodec.MAX_DATA + random.nextInt(Integer.MAX_VALUE - QdbCodec.MAX_DATA));
            case 4 -> {
                byte[] whole = message(QdbType.WRITE, "/cut", "value");
                byte[] cut = new byte[random.nextInt(whole.length)];
                System.arraycopy(whole, 0, cut, 0, cut.length);
                yield cut;
            }
            case 5 -> {
                byte[] m = message(QdbType.WRITE, "/nul", "ab");
                m[QdbCodec.HEADER_SIZE + random.nextInt(2)] = 0;
                yield m;
            }
            case 6 -> {
                var flood = ByteBuffer.allocate(200 * (QdbCodec.HEADER_SIZE + 40));
                for (int i = 0; i < 200; i++) {
                    flood.put(message(QdbType.WRITE, "/flood/" + random.nextInt(50), "x".repeat(40)));
                }
                yield flood.array();
            }
            default -> {
                var mix = ByteBuffer.allocate(20 * (QdbCodec.HEADER_SIZE + 1));
                for (int i = 0; i < 20; i++) {
                    String p = random.nextBoolean() ? "/name" : "/m/" + random.nextInt(5) + (random.nextBoolean()
                            ? "/" : "");
                    mix.put(random.nextBoolean() ? message(QdbType.RM, p, "") : header(1, p, 0));
                }
                yield mix.array();
            }
        };
    }

    private static int pick(Random random, int... values) {
        return values[random.nextInt(values.length)];
    }

    private static String badPath(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> "-leading-dash";
            case 1 -> "/sp ace";
            case 2 -> "/\u00ff\u0001";
            default -> "/" + "p".repeat(70);
        };
    }

    private static byte[] bytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    /** A message built by hand, so that it can carry what {@link QdbMessage} refuses. */
    private static byte[] message(QdbType type, String path, String data) {
        byte[] d = data.getBytes(StandardCharsets.ISO_8859_1);
        byte[] h = header(type.code(), path, d.length);
        byte[] m = new byte[h.length + d.length];
        System.arraycopy(h, 0, m, 0, h.length);
        System.arraycopy(d, 0, m, h.length, d.length);
        return m;
    }

    private static byte[] header(int type, String path, long dataLen) {
        var b = ByteBuffer.allocate(QdbCodec.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, (byte) type);
        byte[] p = path.getBytes(StandardCharsets.ISO_8859_1);
        b.put(QdbCodec.PATH_OFFSET, p, 0, Math.min(p.length, QdbCodec.MAX_PATH));
        b.putInt(QdbCodec.DATA_LEN_OFFSET, (int) dataLen);
        return b.array();
    }
}
