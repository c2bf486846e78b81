package compart.core.qubesdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Compiles a probe with gcc against the unmodified upstream {@code qubesdb.h} and {@code qubesdb_internal.h}, and
 * checks every number {@link QdbCodec}, {@link QdbType} and {@link QubesDbServer} rest on.
 */
class QdbHeaderLayoutTest {
    private static final String PROBE = """
            #include <stdio.h>
            #include <stddef.h>
            #include <qubesdb.h>
            #define P(name, value) printf("%s %ld\\n", name, (long)(value))
            int main(void) {
                P("sizeof", sizeof(struct qdb_hdr));
                P("type", offsetof(struct qdb_hdr, type));
                P("path", offsetof(struct qdb_hdr, path));
                P("path.size", sizeof(((struct qdb_hdr *)0)->path));
                P("data_len", offsetof(struct qdb_hdr, data_len));
                P("QDB_MAX_PATH", QDB_MAX_PATH); P("QDB_MAX_DATA", QDB_MAX_DATA);
                P("READ", QDB_CMD_READ); P("WRITE", QDB_CMD_WRITE); P("MULTIREAD", QDB_CMD_MULTIREAD);
                P("LIST", QDB_CMD_LIST); P("RM", QDB_CMD_RM); P("WATCH", QDB_CMD_WATCH);
                P("UNWATCH", QDB_CMD_UNWATCH); P("RESP_OK", QDB_RESP_OK);
                P("RESP_ERROR_NOENT", QDB_RESP_ERROR_NOENT); P("RESP_ERROR", QDB_RESP_ERROR);
                P("RESP_READ", QDB_RESP_READ); P("RESP_MULTIREAD", QDB_RESP_MULTIREAD);
                P("RESP_LIST", QDB_RESP_LIST); P("RESP_WATCH", QDB_RESP_WATCH);
                return 0;
            }
            """;

    @Test
    void theCodecMatchesTheUpstreamHeader() throws Exception {
        assumeTrue(UpstreamQubesDb.available(), UpstreamQubesDb.missing());
        var src = UpstreamQubesDb.unpacked(UpstreamQubesDb.QUBESDB);
        var c = UpstreamQubesDb.TARGET.resolve("layout-probe.c");
        Files.writeString(c, PROBE);
        var exe = UpstreamQubesDb.TARGET.resolve("layout-probe");
        UpstreamQubesDb.run(List.of("gcc", "-Wall", "-Werror", "-I", src.resolve("include").toString(), "-o",
                exe.toString(), c.toString()));
        Map<String, Long> probe = new HashMap<>();
        for (String line : UpstreamQubesDb.run(List.of(exe.toString())).split("\n")) {
            var parts = line.split(" ");
            probe.put(parts[0], Long.parseLong(parts[1]));
        }
        System.out.println("qdb_hdr as gcc lays it out: " + probe);
        assertThat(probe).containsEntry("sizeof", (long) QdbCodec.HEADER_SIZE).containsEntry("type", 0L)
                .containsEntry("path", (long) QdbCodec.PATH_OFFSET)
                .containsEntry("path.size", (long) QdbCodec.MAX_PATH)
                .containsEntry("data_len", (long) QdbCodec.DATA_LEN_OFFSET)
                .containsEntry("QDB_MAX_PATH", (long) QdbCodec.MAX_PATH)
                .containsEntry("QDB_MAX_DATA", (long) QdbCodec.MAX_DATA);
        for (var t : QdbType.values()) {
            assertThat(probe).containsEntry(t.name(), (long) t.code());
        }
        String internal = Files.readString(src.resolve("daemon/qubesdb_internal.h"));
        assertThat(internal).containsPattern("#define QUBESDB_VCHAN_PORT " + QubesDbServer.VCHAN_PORT + "\\b");
    }
}
