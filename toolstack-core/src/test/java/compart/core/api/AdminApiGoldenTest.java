package compart.core.api;

import static org.assertj.core.api.Assertions.assertThat;

import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Admin API's replies, one row (or more) per method, from the table {@code admin-api-golden.tsv} (its header
 * says the columns): each row runs on a fresh compartd. {@code -Dgolden.record=FILE} writes the table again with
 * the replies of this build (to compare two builds), instead of checking them.
 */
class AdminApiGoldenTest {
    private static final String TABLE = "admin-api-golden.tsv";

    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(8192)
            .withTemplate("fedora", "black")
            .withAppVm("sys-net", "fedora", "red")
            .withAppVm("work", "fedora", "blue");
    final Wire admin = compartd.admin();

    /**
     * One row of the table.
     *
     * @param line  its line number (for messages)
     * @param cells method, arg, dest, payload, given, match, reply; unescaped
     */
    record Row(int line, List<String> cells) {
        String method() {
            return cells.get(0);
        }

        @Override
        public String toString() {
            return line + ": " + method() + "+" + cells.get(1) + " " + cells.get(2);
        }
    }

    static List<Row> rows() {
        var rows = new ArrayList<Row>();
        List<String> lines = text().lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            var cells = new ArrayList<String>();
            for (String cell : line.split("\t", -1)) {
                cells.add(unescape(cell));
            }
            if (cells.size() != 7) {
                throw new IllegalStateException(TABLE + ":" + (i + 1) + ": 7 columns expected, found " + cells.size());
            }
            rows.add(new Row(i + 1, cells));
        }
        return rows;
    }

    private static String text() {
        try (InputStream in = AdminApiGoldenTest.class.getResourceAsStream(TABLE)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void reply_isTheGoldenOne(Row row) throws IOException {
        given(admin, row);
        String before = storedAndListed();
        String reply = call(admin, row);
        String expected = row.cells().get(6);
        switch (row.cells().get(5)) {
            case "=" -> assertThat(reply).as(row.toString()).isEqualTo(expected);
            case "^" -> assertThat(reply).as(row.toString()).startsWith(expected);
            case "~" -> assertThat(reply).as(row.toString()).matches(Pattern.compile(expected, Pattern.DOTALL));
            default -> throw new IllegalStateException(row + ": match must be =, ^ or ~");
        }
        if (reply.startsWith("2|")) {
            assertThat(storedAndListed()).as(row + ": a refused call stores and creates nothing").isEqualTo(before);
        }
        assertThat(admin.call("admin.vm.List", "", "dom0", "")).as(row + ": the daemon still serves").startsWith("0|");
    }

    /** @return work's stored state (empty when work is gone) and the reply of {@code admin.vm.List} */
    private String storedAndListed() throws IOException {
        Path state = compartd.stateDir().resolve("qubes/work.json");
        return (Files.exists(state) ? Files.readString(state) : "") + admin.call("admin.vm.List", "", "dom0", "");
    }

    @Test
    void everyMethod_hasANamedHandler_andAGoldenRow() {
        var table = new AdminApi(compartd.toolstack()).methods().all();
        var covered = rows().stream().map(Row::method).toList();
        assertThat(table).isNotEmpty();
        for (var m : table.values()) {
            assertThat(covered).as("a golden row for " + m.name()).contains(m.name());
            assertThat(handlerWords(m.name())).as("handler of " + m.name())
                    .startsWith(m.handlerName().toLowerCase(Locale.ROOT));
        }
    }

    /** @return the method name's words without {@code admin}, the device or qube class, joined, lower case */
    private static String handlerWords(String method) {
        String name = method.replaceFirst("^admin\\.", "").replaceFirst("\\.(block|mic|pci|usb)\\.", ".");
        return name.replaceAll("[._]", "").toLowerCase(Locale.ROOT);
    }

    /** Writes the table with this build's replies to {@code -Dgolden.record}; does nothing without it. */
    @Test
    void record() throws IOException {
        String target = System.getProperty("golden.record");
        if (target == null) {
            return;
        }
        compartd.close();
        var out = new StringBuilder();
        var rows = rows();
        int next = 0;
        List<String> lines = text().lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (next < rows.size() && rows.get(next).line() == i + 1) {
                var row = rows.get(next++);
                var d = TestDaemon.onTestHypervisor().testMemoryMib(8192).withTemplate("fedora", "black")
                        .withAppVm("sys-net", "fedora", "red").withAppVm("work", "fedora", "blue");
                d.start();
                try {
                    String reply = callAfterGiven(d.admin(), row);
                    var cells = new ArrayList<>(row.cells().subList(0, 5).stream().map(AdminApiGoldenTest::escape)
                            .toList());
                    cells.add("=");
                    cells.add(escape(reply));
                    out.append(String.join("\t", cells)).append('\n');
                } finally {
                    d.afterEach(null);
                }
            } else {
                out.append(lines.get(i)).append('\n');
            }
        }
        Files.writeString(Path.of(target), out);
    }

    private static String callAfterGiven(Wire admin, Row row) throws IOException {
        given(admin, row);
        return call(admin, row);
    }

    private static void given(Wire admin, Row row) throws IOException {
        admin.ok("admin.property.Set", "default_template", "dom0", "fedora");
        admin.ok("admin.vm.property.Set", "provides_network", "sys-net", "True");
        admin.ok("admin.vm.property.Set", "netvm", "work", "sys-net");
        String given = row.cells().get(4);
        if (!given.isEmpty()) {
            for (String call : given.split(" ; ")) {
                String[] f = call.split("\\|", -1);
                admin.ok(f[0], f[1], f[2], f[3]);
            }
        }
    }

    private static String call(Wire admin, Row row) throws IOException {
        var c = row.cells();
        return admin.call(c.get(0), c.get(1), c.get(2), c.get(3));
    }

    private static String unescape(String s) {
        var b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch != '\\' || i + 1 == s.length()) {
                b.append(ch);
                continue;
            }
            char n = s.charAt(++i);
            switch (n) {
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'u' -> {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> b.append(n);
            }
        }
        return b.toString();
    }

    private static String escape(String s) {
        var b = new StringBuilder();
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (ch < 0x20 || ch >= 0x7f) {
                        b.append(String.format("\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.toString();
    }
}
