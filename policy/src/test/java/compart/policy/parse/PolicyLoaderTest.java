package compart.policy.parse;

import static org.assertj.core.api.Assertions.assertThat;

import compart.policy.Diagnostic;
import compart.policy.model.Rule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading policy directories on a real filesystem: file selection, order, directives, and their errors. */
class PolicyLoaderTest {

    @TempDir
    Path tmp;

    Path write(String relative, String text) throws IOException {
        Path p = tmp.resolve(relative);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
        return p;
    }

    LoadedPolicy load(String... dirs) {
        return PolicyLoader.load(java.util.Arrays.stream(dirs).map(tmp::resolve).toList(), tmp.resolve("legacy"));
    }

    static List<String> where(LoadedPolicy p) {
        return p.rules().stream().map(r -> r.location().replaceAll(".*/", "")).toList();
    }

    static List<String> messages(LoadedPolicy p) {
        return p.diagnostics().stream().map(Diagnostic::message).toList();
    }

    @Nested
    class Files_ {
        @Test
        void filesAreReadInNameOrder_acrossDirectories_firstDirectoryWinsAName() throws IOException {
            write("run/50-b.policy", "run.B * @anyvm @anyvm deny\n");
            write("etc/50-b.policy", "etc.B * @anyvm @anyvm deny\n");
            write("etc/10-a.policy", "etc.A * @anyvm @anyvm deny\n");
            write("etc/90-c.policy", "etc.C * @anyvm @anyvm deny\n");
            LoadedPolicy p = load("run", "etc");
            assertThat(p.diagnostics()).isEmpty();
            assertThat(p.rules().stream().map(Rule::service)).containsExactly("etc.A", "run.B", "etc.C");
            assertThat(p.rules().get(1).file()).isEqualTo(tmp.resolve("run/50-b.policy").toString());
        }

        @Test
        void dotFiles_otherSuffixes_andDirectories_areIgnored() throws IOException {
            write("etc/.30-user.policy.swp", "garbage\n");
            write("etc/.hidden.policy", "garbage\n");
            write("etc/README", "garbage\n");
            write("etc/30-user.policy~", "garbage\n");
            Files.createDirectories(tmp.resolve("etc/sub.policy"));
            write("etc/30-user.policy", "qubes.X * @anyvm @anyvm deny\n");
            LoadedPolicy p = load("etc");
            assertThat(p.diagnostics()).isEmpty();
            assertThat(p.rules()).hasSize(1);
        }

        @Test
        void badFileName_makesThePolicyInvalid_andSaysHowToFixIt() throws IOException {
            write("etc/30-User.policy", "qubes.X * @anyvm @anyvm deny\n");
            LoadedPolicy p = load("etc");
            assertThat(p.diagnostics()).hasSize(1);
            Diagnostic d = p.diagnostics().getFirst();
            assertThat(d.message()).isEqualTo("invalid filename: " + tmp.resolve("etc/30-User.policy"));
            assertThat(d.line()).isNull();
            assertThat(d.hint()).contains("0-9, a-z");
        }

        @Test
        void missingDirectory_isAnError() {
            assertThat(messages(load("nope")).getFirst()).startsWith("failed to load");
        }

        @Test
        void commentsAndBlankLines_areSkipped_crlfAndCrAreLineEnds() throws IOException {
            write("etc/30-a.policy", "# comment\r\n   \r\n  # indented comment\rqubes.X * @anyvm @anyvm deny\r\n");
            assertThat(where(load("etc"))).containsExactly("30-a.policy:4");
        }

        @Test
        void invalidUtf8_isReportedAtItsLine() throws IOException {
            Path f = tmp.resolve("etc/30-a.policy");
            Files.createDirectories(f.getParent());
            Files.write(f, new byte[] {'#', '\n', 'q', (byte) 0xff, '\n'});
            assertThat(load("etc").diagnostics()).extracting(Diagnostic::location).containsExactly(f + ":2");
        }

        @Test
        void everyError_isReported_notOnlyTheFirst() throws IOException {
            write("etc/10-a.policy", "qubes.X * work\n");
            write("etc/20-b.policy", "qubes.X * work vault permit\n");
            assertThat(messages(load("etc"))).containsExactly("wrong number of fields", "invalid action: permit");
        }
    }

    @Nested
    class Include {
        @Test
        void include_isRelativeToThePolicyDirectory_andNamedByItsResolvedPath() throws IOException {
            write("etc/30-a.policy", "qubes.A * @anyvm @anyvm deny\n!include include/extra\nqubes.C * @anyvm @anyvm deny\n");
            Path inc = write("etc/include/extra", "\nqubes.B * @anyvm @anyvm deny\n");
            LoadedPolicy p = load("etc");
            assertThat(p.rules().stream().map(Rule::service)).containsExactly("qubes.A", "qubes.B", "qubes.C");
            assertThat(p.rules().get(1).location()).isEqualTo(inc.toRealPath() + ":2");
        }

        @Test
        void missingInclude_isNotAFile_atTheIncludingLine() throws IOException {
            Path f = write("etc/30-a.policy", "\n!include include/missing\n");
            Diagnostic d = load("etc").diagnostics().getFirst();
            assertThat(d.location()).isEqualTo(f + ":2");
            assertThat(d.message()).startsWith("not a file: ").endsWith("include/missing");
        }

        @Test
        void includeLoop_isAnError_notAStackOverflow() throws IOException {
            Path a = write("etc/30-a.policy", "!include include/b\n");
            write("etc/include/b", "!include include/c\n");
            write("etc/include/c", "qubes.X * @anyvm @anyvm deny\n!include include/b\n");
            LoadedPolicy p = load("etc");
            assertThat(p.diagnostics()).hasSize(1);
            assertThat(p.diagnostics().getFirst().message()).startsWith("include loop: ")
                    .contains("include/b -> ").endsWith("include/b");
        }

        @Test
        void includeDir_readsItsPolicyFilesInOrder() throws IOException {
            write("etc/30-a.policy", "!include-dir extra.d\n");
            write("etc/extra.d/20-y.policy", "qubes.Y * @anyvm @anyvm deny\n");
            write("etc/extra.d/10-x.policy", "qubes.X * @anyvm @anyvm deny\n");
            write("etc/extra.d/notes.txt", "not policy\n");
            LoadedPolicy p = load("etc");
            assertThat(p.diagnostics()).isEmpty();
            assertThat(p.rules().stream().map(Rule::service)).containsExactly("qubes.X", "qubes.Y");
        }

        @Test
        void includeDir_ofAFile_isNotADirectory() throws IOException {
            write("etc/30-a.policy", "!include-dir 30-a.policy\n");
            assertThat(messages(load("etc")).getFirst()).startsWith("not a directory: ");
        }

        @Test
        void includeDir_ofItsOwnDirectory_isALoop() throws IOException {
            write("etc/30-a.policy", "!include-dir sub\n");
            write("etc/sub/40-b.policy", "!include-dir sub\n");
            assertThat(messages(load("etc")).getFirst()).startsWith("include loop: ");
        }

        @Test
        void includeService_readsOldSyntax_forOneServiceAndArgument() throws IOException {
            write("etc/30-a.policy", "!include-service admin.vm.List +x include/ro\n");
            write("etc/include/ro", "# old\nmgmt $adminvm allow,target=$adminvm\n$include:include/more\n");
            write("etc/include/more", "$anyvm $anyvm deny\n");
            LoadedPolicy p = load("etc");
            assertThat(p.diagnostics()).isEmpty();
            assertThat(p.rules()).extracting(Rule::toPolicyText).containsExactly(
                    "admin.vm.List\t+x\tmgmt\t@adminvm\tallow target=@adminvm",
                    "admin.vm.List\t+x\t@anyvm\t@anyvm\tdeny");
        }

        @Test
        void includeService_rejectsAnArgumentForAnyService_andNewDirectives() throws IOException {
            write("etc/30-a.policy", "!include-service * +x include/ro\n!include-service a.B * include/ro\n");
            write("etc/include/ro", "!include-dir x\n");
            assertThat(messages(load("etc"))).containsExactly("only * argument allowed for * service",
                    "invalid directive");
        }

        @Test
        void unknownDirective_andWrongParameterCounts_areErrors() throws IOException {
            write("etc/30-a.policy", "!includes x\n!include\n!include-dir a b\n!include-service a b\n!compat-4.0 x\n");
            assertThat(messages(load("etc"))).containsExactly("invalid directive", "invalid number of params",
                    "invalid number of params", "invalid number of params", "invalid number of params");
        }
    }

    @Nested
    class Compat40 {
        @Test
        void legacyFiles_argumentFilesFirst_withTheImplicitDenies() throws IOException {
            write("etc/35-compat.policy", "!compat-4.0\n");
            write("legacy/qubes.Gpg", "$anyvm $anyvm ask\n");
            write("legacy/qubes.Gpg+b", "work vault allow\n");
            write("legacy/qubes.Gpg+a", "work vault allow\n");
            write("legacy/qubes.Gpg+a.rpmnew", "garbage\n");
            write("legacy/qubes.Gpg+a.swp", "garbage\n");
            write("legacy/.qubes.Gpg", "garbage\n");
            write("legacy/Bad Name", "garbage\n");
            LoadedPolicy p = load("etc");
            assertThat(p.diagnostics()).isEmpty();
            assertThat(p.rules()).extracting(r -> r.toPolicyText() + " @ " + r.location().replaceAll(".*/", ""))
                    .containsExactly(
                            "qubes.Gpg\t+a\twork\tvault\tallow @ qubes.Gpg+a:1",
                            "qubes.Gpg\t+a\t@anyvm\t@anyvm\tdeny @ qubes.Gpg+a:None",
                            "qubes.Gpg\t+a\t@anyvm\t@adminvm\tdeny @ qubes.Gpg+a:None",
                            "qubes.Gpg\t+b\twork\tvault\tallow @ qubes.Gpg+b:1",
                            "qubes.Gpg\t+b\t@anyvm\t@anyvm\tdeny @ qubes.Gpg+b:None",
                            "qubes.Gpg\t+b\t@anyvm\t@adminvm\tdeny @ qubes.Gpg+b:None",
                            "qubes.Gpg\t*\t@anyvm\t@anyvm\task @ qubes.Gpg:1");
        }

        @Test
        void missingLegacyDirectory_isAnError() throws IOException {
            write("etc/35-compat.policy", "!compat-4.0\n");
            assertThat(messages(load("etc")).getFirst()).startsWith("failed to load");
        }
    }
}
