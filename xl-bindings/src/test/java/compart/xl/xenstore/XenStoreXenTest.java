package compart.xl.xenstore;

import compart.xl.foreign.XenHost;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** libxenstore on a real dom0: reads, writes, listing, permissions, transactions and watches. */
@Tag("xen")
class XenStoreXenTest {
    private static XenStore xs;
    private static String base;

    @BeforeAll
    static void open() {
        XenHost.assumeDom0();
        xs = XenStore.open();
        base = "/local/domain/0/data/compart-test-" + UUID.randomUUID();
    }

    @AfterAll
    static void close() {
        if (xs != null) {
            xs.remove(base);
            xs.close();
        }
    }

    @Test
    void read_domain0Name_isDomain0_andAMissingNodeIsEmpty() {
        assertThat(xs.read("/local/domain/0/name")).hasValue("Domain-0");
        assertThat(xs.read(base + "/missing")).isEmpty();
        assertThat(xs.domainPath(0)).isEqualTo("/local/domain/0");
    }

    @Test
    void writeListRemove_roundTrip() {
        xs.write(base + "/rw/a", "alpha");
        xs.write(base + "/rw/b", "βeta"); // UTF-8 survives
        xs.mkdir(base + "/rw/dir");
        assertThat(xs.read(base + "/rw/b")).hasValue("βeta");
        assertThat(xs.list(base + "/rw")).containsExactlyInAnyOrder("a", "b", "dir");
        xs.remove(base + "/rw/a");
        xs.remove(base + "/rw/a"); // absent: no error
        assertThat(xs.list(base + "/rw")).containsExactlyInAnyOrder("b", "dir");
        assertThat(xs.list(base + "/nothing-here")).isEmpty();
    }

    @Test
    void setPermissions_isReadBack() {
        xs.write(base + "/perm", "x");
        List<XenStorePermission> perms = List.of(new XenStorePermission(0, XenStorePermission.Access.NONE),
                new XenStorePermission(1, XenStorePermission.Access.READ));
        xs.setPermissions(base + "/perm", perms);
        assertThat(xs.permissions(base + "/perm")).isEqualTo(perms);
    }

    @Test
    void transaction_commitsAllWrites() {
        int written = xs.transaction(t -> {
            t.write(base + "/txn/one", "1");
            t.write(base + "/txn/two", "2");
            return t.list(base + "/txn").size();
        });
        assertThat(written).isEqualTo(2);
        assertThat(xs.read(base + "/txn/two")).hasValue("2");
    }

    @Test
    void transaction_thatThrows_isAborted() {
        try {
            xs.transaction(t -> {
                t.write(base + "/aborted", "no");
                throw new IllegalStateException("abort");
            });
        } catch (IllegalStateException expected) {
            // aborted
        }
        assertThat(xs.read(base + "/aborted")).isEmpty();
    }

    @Test
    void watch_deliversTheInitialFireAndEachChange() throws InterruptedException {
        var changes = new LinkedBlockingQueue<String>();
        xs.write(base + "/watched/value", "0");
        try (XenStoreWatch watch = xs.watch(base + "/watched", changes::add)) {
            assertThat(changes.poll(10, TimeUnit.SECONDS)).isEqualTo(base + "/watched");
            xs.write(base + "/watched/value", "1");
            assertThat(changes.poll(10, TimeUnit.SECONDS)).isEqualTo(base + "/watched/value");
            assertThat(watch.path()).isEqualTo(base + "/watched");
        }
        xs.write(base + "/watched/value", "2");
        assertThat(changes.poll(1, TimeUnit.SECONDS)).isNull();
    }
}
