package compart.core.qubesdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** One qube's database: upstream's write, RM and MULTIREAD semantics, and the bounds on what the qube writes. */
class QubesDbTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static QubesDb with(String... paths) {
        var db = new QubesDb();
        for (String p : paths) {
            db.write(p, b("v" + p));
        }
        return db;
    }

    @Test
    void rmOfAPathEndingInSlash_removesTheDirectory_butNotTheEntryNamedLikeIt() {
        var db = with("/qubes-firewall/10.137.0.5", "/qubes-firewall/10.137.0.5/0000",
                "/qubes-firewall/10.137.0.5/policy", "/qubes-firewall/10.137.0.50/policy");
        assertThat(db.remove("/qubes-firewall/10.137.0.5/")).isTrue();
        assertThat(db.snapshot()).containsOnlyKeys("/qubes-firewall/10.137.0.5", "/qubes-firewall/10.137.0.50/policy");
        assertThat(db.remove("/qubes-firewall/10.137.0.5/")).isFalse();
    }

    @Test
    void rmOfAnEntry_isExact() {
        var db = with("/name", "/name2");
        assertThat(db.hasAny("/nam")).isFalse();
        assertThat(db.remove("/name")).isTrue();
        assertThat(db.snapshot()).containsOnlyKeys("/name2");
    }

    @Test
    void aFullMultiread_isInReverseOrder_aPrefixOneInOrder() {
        var db = with("/a", "/b/1", "/b/2", "/c");
        assertThat(db.multiread("")).extracting(QdbMessage::path).containsExactly("/c", "/b/2", "/b/1", "/a");
        assertThat(db.multiread("/b/")).extracting(QdbMessage::path).containsExactly("/b/1", "/b/2");
        assertThat(db.multiread("/b/1")).extracting(QdbMessage::text).containsExactly("v/b/1");
    }

    @Test
    void theQubesWrites_areRefusedPastTheEntryBound() {
        var db = new QubesDb();
        for (int i = 0; i < QubesDb.MAX_GUEST_ENTRIES; i++) {
            assertThat(db.writeFromGuest("/e/" + i, b("1"))).isTrue();
        }
        assertThat(db.writeFromGuest("/e/one-too-many", b("1"))).isFalse();
        assertThat(db.writeFromGuest("/e/0", b("rewritten"))).as("rewriting an entry adds none").isTrue();
        assertThat(db.size()).isEqualTo(QubesDb.MAX_GUEST_ENTRIES);
    }

    @Test
    void theQubesWrites_areRefusedPastTheByteBound_andRemovalsGiveRoomBack() {
        var db = new QubesDb();
        byte[] big = b("x".repeat(QdbCodec.MAX_DATA_LEN));
        int fit = (int) (QubesDb.MAX_GUEST_BYTES / big.length);
        for (int i = 0; i < fit; i++) {
            assertThat(db.writeFromGuest("/big/" + i, big)).isTrue();
        }
        assertThat(db.writeFromGuest("/big/more", big)).isFalse();
        assertThat(db.remove("/big/")).isTrue();
        assertThat(db.writeFromGuest("/big/more", big)).isTrue();
    }

    @Test
    void theQubesWrites_needAnEntryPathAndAValue() {
        var db = new QubesDb();
        assertThat(db.writeFromGuest("/dir/", b("1"))).isFalse();
        assertThat(db.writeFromGuest("relative", b("1"))).isFalse();
        assertThat(db.writeFromGuest("/nul", new byte[] {'a', 0})).isFalse();
        assertThat(db.size()).isZero();
    }
}
