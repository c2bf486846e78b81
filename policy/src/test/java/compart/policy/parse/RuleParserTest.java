package compart.policy.parse;

import static org.assertj.core.api.Assertions.assertThat;

import compart.policy.model.Action;
import compart.policy.model.QubeToken;
import compart.policy.model.Rule;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** One policy line: fields, tokens per column, actions and their parameters, and the errors Qubes reports. */
class RuleParserTest {

    static Rule ok(String line) {
        var p = RuleParser.parseLine(line, "f.policy", 7);
        assertThat(p).as(line).isInstanceOf(RuleParser.Parsed.Ok.class);
        return ((RuleParser.Parsed.Ok) p).rule();
    }

    static SyntaxProblem error(String line) {
        var p = RuleParser.parseLine(line, "f.policy", 7);
        assertThat(p).as(line).isInstanceOf(RuleParser.Parsed.Error.class);
        return ((RuleParser.Parsed.Error) p).problem();
    }

    @Nested
    class Fields {
        @Test
        void fiveFields_makeARule_withItsFileAndLine() {
            Rule r = ok("qubes.Gpg  +key\twork   vault  allow");
            assertThat(r.service()).isEqualTo("qubes.Gpg");
            assertThat(r.argument()).isEqualTo("+key");
            assertThat(r.source()).isEqualTo(new QubeToken.Named("work"));
            assertThat(r.location()).isEqualTo("f.policy:7");
        }

        @Test
        void starServiceAndArgument_meanAny() {
            Rule r = ok("* * @anyvm @anyvm deny");
            assertThat(r.service()).isNull();
            assertThat(r.argument()).isNull();
        }

        /** Each row: a line; Qubes' message for it. */
        @ParameterizedTest(name = "{0}")
        @CsvSource(delimiter = ';', quoteCharacter = '"', textBlock = """
                qubes.Gpg * work vault; wrong number of fields
                * +x @anyvm @anyvm deny; only * argument allowed for * service
                qubes.X arg @anyvm @anyvm deny; argument 'arg' does not start with +
                qubes/X * @anyvm @anyvm deny; service 'qubes/X' contains invalid characters: ('/',)
                qubes.X+a * @anyvm @anyvm deny; service 'qubes.X+a' contains invalid characters: ('+',)
                qubes.X +a/b! @anyvm @anyvm deny; argument '+a/b!' contains invalid characters: ('!', '/')
                """)
        void tooFewFields_aStarServiceWithArgument_anArgumentWithoutPlus_orInvalidCharacters_areRejected(
                String line, String message) {
            assertThat(error(line).message()).isEqualTo(message);
        }
    }

    @Nested
    class TokensPerColumn {
        @ParameterizedTest(name = "{0} in source: {1}")
        @CsvSource({"*,true", "@anyvm,true", "@adminvm,true", "dom0,true", "work,true", "uuid:1234,true",
                "@tag:t,true", "@type:AppVM,true", "@dispvm:dvm,true", "@dispvm:@tag:t,true",
                "@default,false", "@dispvm,false", "@tag:,false", "@type:,false", "@dispvm:,false", "@bogus,false",
                "@dispvm:@type:x,false"})
        void sourceColumn(String token, boolean legal) {
            assertThat(RuleParser.parseLine("qubes.X * " + token + " work allow", "f", 1)
                    instanceof RuleParser.Parsed.Ok).isEqualTo(legal);
        }

        @ParameterizedTest(name = "{0} in target: {1}")
        @CsvSource({"*,true", "@anyvm,true", "@adminvm,true", "dom0,true", "work,true", "uuid:1234,true",
                "@tag:t,true", "@type:AppVM,true", "@dispvm,true", "@dispvm:dvm,true", "@dispvm:@tag:t,true",
                "@default,true", "@tag:,false", "@bogus,false", "@dispvm:@tag:,false"})
        void targetColumn(String token, boolean legal) {
            assertThat(RuleParser.parseLine("qubes.X * work " + token + " deny", "f", 1)
                    instanceof RuleParser.Parsed.Ok).isEqualTo(legal);
        }

        @ParameterizedTest(name = "target={0}: {1}")
        @CsvSource({"work,true", "dom0,true", "@adminvm,true", "uuid:1234,true", "@dispvm,true",
                "@dispvm:dvm,true", "*,false", "@anyvm,false", "@default,false", "@tag:t,false", "@type:AppVM,false",
                "@dispvm:@tag:t,false", "'',false"})
        void redirectParameters(String token, boolean legal) {
            assertThat(RuleParser.parseLine("qubes.X * work @anyvm allow target=" + token, "f", 1)
                    instanceof RuleParser.Parsed.Ok).isEqualTo(legal);
            assertThat(RuleParser.parseLine("qubes.X * work @anyvm ask default_target=" + token, "f", 1)
                    instanceof RuleParser.Parsed.Ok).isEqualTo(legal);
        }

        @Test
        void illegalToken_saysWhichColumn_andWhatIsAllowedThere() {
            SyntaxProblem p = error("qubes.X * @default work allow");
            assertThat(p.message()).isEqualTo("invalid source token: '@default'");
            assertThat(p.hint()).contains("@anyvm").doesNotContain("@default");
            assertThat(error("qubes.X * work @tag: allow").message()).isEqualTo("invalid empty @tag: token: '@tag:'");
        }
    }

    @Nested
    class Actions {
        @Test
        void allow_parameters() {
            var a = (Action.Allow) ok("qubes.X * work @anyvm allow target=vault user=root notify=yes autostart=no")
                    .action();
            assertThat(a).isEqualTo(new Action.Allow(new QubeToken.Named("vault"), "root", true, false));
        }

        @Test
        void ask_parameters_andDefaults() {
            var a = (Action.Ask) ok("qubes.X * work @anyvm ask default_target=@dispvm").action();
            assertThat(a).isEqualTo(new Action.Ask(null, new QubeToken.DispVm(), null, false, true));
        }

        @Test
        void deny_notifiesByDefault() {
            assertThat(ok("qubes.X * work @anyvm deny").action()).isEqualTo(new Action.Deny(true));
            assertThat(ok("qubes.X * work @anyvm deny notify=no").action()).isEqualTo(new Action.Deny(false));
        }

        /** Each row: a line; Qubes' message for it. */
        @ParameterizedTest(name = "{0}")
        @CsvSource(delimiter = ';', quoteCharacter = '"', textBlock = """
                qubes.X * work vault permit; invalid action: permit
                qubes.X * work @anyvm allow default_target=vault; invalid parameters for action Allow: ['default_target=vault']
                qubes.X * work @anyvm deny target=vault; invalid parameters for action Deny: ['target=vault']
                qubes.X * work @anyvm allow user; invalid action parameter syntax: 'user'
                qubes.X * work @anyvm allow user=a user=b; parameter given twice: 'user'
                qubes.X * work @anyvm allow notify=true; 'notify' is 'true', but can be only 'yes' or 'no'
                """)
        void anUnknownAction_aParameterTheActionLacks_aParameterWithoutValueOrTwice_orANonYesNoBoolean_areRejected(
                String line, String message) {
            assertThat(error(line).message()).isEqualTo(message);
        }

        @Test
        void allowToDefault_withoutTarget_isRejected() {
            SyntaxProblem p = error("qubes.X * work @default allow");
            assertThat(p.message()).isEqualTo("allow action for @default rule must specify target= option");
            assertThat(p.hint()).contains("target=");
            ok("qubes.X * work @default allow target=vault");
            ok("qubes.X * work @default ask");
        }
    }

    @Nested
    class OldSyntax {
        @Test
        void threeColumns_withCommaParameters() {
            var p = RuleParser.parseServiceLine("qubes.X", null, "work @adminvm allow,target=@adminvm", "inc", 2);
            Rule r = ((RuleParser.Parsed.Ok) p).rule();
            assertThat(r.service()).isEqualTo("qubes.X");
            assertThat(r.argument()).isNull();
            assertThat(r.action()).isEqualTo(new Action.Allow(new QubeToken.AdminVm(), null, false, true));
        }

        @Test
        void tooFewColumns_isWrongNumberOfFields() {
            var p = RuleParser.parseServiceLine("qubes.X", null, "work vault", "inc", 2);
            assertThat(((RuleParser.Parsed.Error) p).problem().message()).isEqualTo("wrong number of fields");
        }
    }
}
