package compart.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import compart.core.testing.TestDaemon;
import compart.core.testing.Wire;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

/**
 * Every failure reaches the client as a Qubes exception with a message for people, never a Java class name or an
 * unexpected failure; untrusted bytes reach the log only through its pattern, which escapes them.
 */
class NoInternalsInRepliesTest {
    @RegisterExtension
    final TestDaemon compartd = TestDaemon.onTestHypervisor().testMemoryMib(8192).withDisposableTemplate();
    final Wire admin = compartd.admin();
    final ListAppender<ILoggingEvent> unexpected = new ListAppender<>();

    @BeforeEach
    void captureUnexpectedFailures() {
        unexpected.start();
        var logger = (Logger) LoggerFactory.getLogger("compart.core.api.Dispatcher");
        logger.setLevel(Level.INFO);
        logger.addAppender(unexpected);
    }

    @AfterEach
    void stopCapturing() {
        var logger = (Logger) LoggerFactory.getLogger("compart.core.api.Dispatcher");
        logger.detachAppender(unexpected);
        logger.setLevel(null);
    }

    /** @return the reply, NULs as {@code |}, checked to be a Qubes exception without Java internals */
    String refusal(String method, String arg, String dest, byte[] payload) throws IOException {
        String r = new String(admin.raw(method, arg, "dom0", dest, payload), StandardCharsets.UTF_8).replace('\0', '|');
        assertThat(r).as(method + "+" + arg).startsWith("2|").doesNotContain("java.").doesNotContainPattern(
                "[A-Z][A-Za-z]+Exception:").doesNotContain("unexpectedly");
        return r;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Each row: the call (method; argument; destination; payload with Java escapes); how its reply starts. */
    @ParameterizedTest(name = "{0}+{1} {2} {3}")
    @CsvSource(delimiter = ';', textBlock = """
            admin.vm.volume.Revert; private; work; \\0/..; 2|QubesException||volume appvms/work/private has no revision of that id
            admin.vm.volume.Revert; private; work; \\377\\376; 2|QubesValueError||Non-ASCII bytes in the payload
            admin.vm.volume.Resize; private; work; 9999999999999999999; 2|QubesValueError||Invalid size: 9999999999999999999 is too big
            admin.vm.volume.ImportWithSize; private; work; 9999999999999999999\\n; 2|QubesValueError||Invalid size:
            admin.pool.Add; file-reflink; dom0; name=p\\ndir_path=/tmp/a\\0b\\n; 2|StoragePoolException||pool p: dir_path must be an absolute path
            admin.pool.Add; file-reflink; dom0; name=p\\ndir_path=relative/dir\\n; 2|StoragePoolException||pool p: dir_path must be an absolute path
            """)
    void oddBytesNonAsciiHugeSizesAndBadPoolPaths_areRefusedAsQubesDoes_withoutInternals(
            String method, String arg, String dest, String escapedPayload, String reply) throws Exception {
        assertThat(refusal(method, arg, dest, bytes(escapedPayload.translateEscapes()))).startsWith(reply);
    }

    @Test
    void createDispVm_withoutTemplate_takesTheGlobalDefaultDispvm() throws Exception {
        admin.ok("admin.property.Set", "default_dispvm", "dom0", "dvm-tpl");
        assertThat(admin.call("admin.vm.Create.DispVM", "", "dom0", "name=d1 label=red")).isEqualTo("0|");
        assertThat(admin.ok("admin.vm.property.Get", "template", "d1", "")).endsWith(" dvm-tpl");
        admin.ok("admin.property.Set", "default_dispvm", "dom0", "");
        assertThat(refusal("admin.vm.Create.DispVM", "", "dom0", bytes("name=d2 label=red")))
                .startsWith("2|");
    }

    @Test
    void hostileArgumentsAndPayloads_neverFailUnexpectedly() throws Exception {
        var payloads = List.of("", "\0", "\u00ff\u00fe", "a\nERROR Forged: line", "9999999999999999999",
                "-1", "../../../etc/passwd", "/\0x", "name=\0 label=red", "=", "x".repeat(4000));
        var calls = List.of(List.of("admin.vm.volume.Revert", "private", "work"),
                List.of("admin.vm.volume.Resize", "private", "work"),
                List.of("admin.vm.volume.Set.revisions_to_keep", "private", "work"),
                List.of("admin.vm.volume.Set.rw", "private", "work"),
                List.of("admin.vm.volume.ImportWithSize", "private", "work"),
                List.of("admin.vm.property.Set", "memory", "work"),
                List.of("admin.vm.property.Set", "netvm", "work"),
                List.of("admin.vm.property.Set", "kernel", "work"),
                List.of("admin.vm.property.Set", "default_dispvm", "work"),
                List.of("admin.vm.property.Set", "label", "work"),
                List.of("admin.property.Set", "default_pool", "dom0"),
                List.of("admin.vm.feature.Set", "x", "work"),
                List.of("admin.vm.firewall.Set", "", "work"),
                List.of("admin.vm.notes.Set", "", "work"),
                List.of("admin.pool.Add", "file-reflink", "dom0"),
                List.of("admin.pool.Add", "lvm_thin", "dom0"),
                List.of("admin.pool.Set.revisions_to_keep", "varlibqubes", "dom0"),
                List.of("admin.label.Create", "newlabel", "dom0"),
                List.of("admin.vm.Create.AppVM", "fedora", "dom0"),
                List.of("admin.vm.Create.DispVM", "", "dom0"),
                List.of("admin.vm.CreateDisposable", "", "dom0"),
                List.of("admin.vm.CreateInPool.AppVM", "fedora", "dom0"));
        var answers = new ArrayList<String>();
        for (var call : calls) {
            for (String p : payloads) {
                String r = new String(admin.raw(call.get(0), call.get(1), "dom0", call.get(2), bytes(p)),
                        StandardCharsets.UTF_8);
                answers.add(r);
                assertThat(r).as(call + " with " + p).doesNotContain("java.").doesNotContain("unexpectedly");
            }
        }
        assertThat(answers).hasSize(calls.size() * payloads.size());
        assertThat(unexpected.list).filteredOn(e -> e.getLevel() == Level.ERROR).isEmpty();
    }

    @Test
    void daemonLogPattern_rendersUntrustedBytesOnOneLine() throws Exception {
        String pattern;
        try (InputStream in = AdminServer.class.getResourceAsStream("/logback.xml")) {
            var m = Pattern.compile("<pattern>(.*)</pattern>").matcher(new String(in.readAllBytes(),
                    StandardCharsets.UTF_8));
            assertThat(m.find()).isTrue();
            pattern = m.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
        }
        var context = new LoggerContext();
        var layout = new PatternLayout();
        layout.setContext(context);
        layout.setPattern(pattern);
        layout.start();
        var logger = context.getLogger("compart.core.api.Dispatcher");
        var forged = new LoggingEvent("x", logger, Level.INFO, "payload {} refused",
                null, new Object[] {"a\nERROR Toolstack: forged\r\u001b[2J"});
        assertThat(layout.doLayout(forged)).isEqualTo("INFO  Dispatcher: payload a?ERROR Toolstack: forged??[2J "
                + "refused\n");
        var failure = new InvalidPathException("a\nERROR Toolstack: forged", "Nul character not allowed");
        var withStack = new LoggingEvent("x", logger, Level.ERROR, "failed unexpectedly", failure, null);
        var lines = layout.doLayout(withStack).split("\n");
        assertThat(lines[0]).isEqualTo("ERROR Dispatcher: failed unexpectedly");
        assertThat(lines[1]).startsWith("java.nio.file.InvalidPathException: Nul character not allowed: a?ERROR");
        assertThat(List.of(lines).subList(2, lines.length)).allSatisfy(l -> assertThat(l).matches("\tat .*|\t\\.\\.\\. .*|Caused by: .*"));
    }
}
