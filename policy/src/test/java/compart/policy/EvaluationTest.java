package compart.policy;

import static compart.policy.PolicyFixtures.decide;
import static compart.policy.PolicyFixtures.policy;
import static compart.policy.PolicyFixtures.system;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Deciding calls with Qubes' semantics, one group per rule of the semantics. */
class EvaluationTest {

    static Resolution.Allow allowed(Resolution r) {
        assertThat(r).as("%s", r).isInstanceOf(Resolution.Allow.class);
        return (Resolution.Allow) r;
    }

    static Resolution.Deny denied(Resolution r) {
        assertThat(r).as("%s", r).isInstanceOf(Resolution.Deny.class);
        return (Resolution.Deny) r;
    }

    static Resolution.Ask asked(Resolution r) {
        assertThat(r).as("%s", r).isInstanceOf(Resolution.Ask.class);
        return (Resolution.Ask) r;
    }

    @Nested
    class FirstMatch {
        @Test
        void firstMatchingRule_decides_laterRulesIgnored() {
            var r = decide("""
                    qubes.Gpg * work vault deny
                    qubes.Gpg * work vault allow
                    """, "work", "vault", "qubes.Gpg");
            assertThat(denied(r).rule()).isEqualTo("test.policy:1");
            assertThat(denied(r).reason()).isEqualTo("denied by policy test.policy:1");
        }

        @Test
        void noMatchingRule_denies() {
            var r = decide("qubes.Gpg * work vault allow\n", "personal", "vault", "qubes.Gpg");
            assertThat(denied(r).reason()).isEqualTo("no matching rule found");
            assertThat(r.rule()).isNull();
        }

        @Test
        void aSourceTheSystemDoesNotKnow_isDenied_evenByAnAskOrAllowForAnySource() {
            String p = "qubes.Gpg * @anyvm @anyvm ask\nqubes.Filecopy * @anyvm vault allow\n";
            assertThat(denied(decide(p, "ghost", "vault", "qubes.Gpg")).reason())
                    .isEqualTo("source qube 'ghost' is not known to the system");
            assertThat(denied(decide(p, "ghost", "vault", "qubes.Filecopy")).rule()).isNull();
            assertThat(asked(decide(p, "work", "vault", "qubes.Gpg")).rule()).isEqualTo("test.policy:1");
        }

        @Test
        void argument_mustMatchExactly_starMatchesAny() {
            String p = "qubes.Gpg +key work vault allow\nqubes.Gpg * work vault deny\n";
            assertThat(allowed(decide(p, "work", "vault", "qubes.Gpg+key")).rule()).isEqualTo("test.policy:1");
            assertThat(denied(decide(p, "work", "vault", "qubes.Gpg+other")).rule()).isEqualTo("test.policy:2");
            assertThat(denied(decide(p, "work", "vault", "qubes.Gpg")).rule()).isEqualTo("test.policy:2");
        }

        @Test
        void emptyArgument_isPlus_andMatchesServiceWithoutPlus() {
            assertThat(allowed(decide("qubes.Gpg + work vault allow\n", "work", "vault", "qubes.Gpg")).target())
                    .isEqualTo("vault");
        }

        @Test
        void starService_matchesEveryService() {
            assertThat(allowed(decide("* * work vault allow\n", "work", "vault", "any.Thing+x")).target())
                    .isEqualTo("vault");
        }
    }

    @Nested
    class Tokens {
        @Test
        void anyvm_matchesQubesButNotDom0() {
            String p = "qubes.X * @anyvm @anyvm allow\n";
            assertThat(decide(p, "work", "vault", "qubes.X")).isInstanceOf(Resolution.Allow.class);
            assertThat(decide(p, "dom0", "vault", "qubes.X")).isInstanceOf(Resolution.Deny.class);
            assertThat(decide(p, "work", "dom0", "qubes.X")).isInstanceOf(Resolution.Deny.class);
        }

        @Test
        void star_matchesDom0Too() {
            assertThat(allowed(decide("qubes.X * * * allow\n", "dom0", "work", "qubes.X")).target()).isEqualTo("work");
        }

        @Test
        void adminvm_dom0_andZeroUuid_areTheSameQube() {
            for (String rule : new String[] {"@adminvm", "dom0", "uuid:00000000-0000-0000-0000-000000000000"}) {
                String p = "qubes.X * work " + rule + " allow\n";
                for (String asked : new String[] {"@adminvm", "dom0"}) {
                    var a = allowed(decide(p, "work", asked, "qubes.X"));
                    assertThat(a.target()).isEqualTo("dom0");
                    assertThat(a.wire()).isEqualTo("user=DEFAULT\nresult=allow\ntarget=dom0\nautostart=True\n"
                            + "requested_target=" + asked);
                }
            }
        }

        @Test
        void tag_andType_matchByTheSystemInfo() {
            assertThat(decide("qubes.X * @tag:work @type:AppVM allow\n", "work", "vault", "qubes.X"))
                    .isInstanceOf(Resolution.Allow.class);
            assertThat(decide("qubes.X * @tag:work @type:TemplateVM allow\n", "work", "vault", "qubes.X"))
                    .isInstanceOf(Resolution.Deny.class);
            assertThat(decide("qubes.X * @tag:secret @anyvm allow\n", "work", "vault", "qubes.X"))
                    .isInstanceOf(Resolution.Deny.class);
        }

        @Test
        void uuid_matchesTheNamedQube_andTheTargetKeepsItsUuidForm() {
            var a = allowed(decide("qubes.X * uuid:" + PolicyFixtures.WORK_UUID + " vault allow\n", "work", "uuid:"
                    + PolicyFixtures.VAULT_UUID, "qubes.X"));
            assertThat(a.target()).isEqualTo("uuid:" + PolicyFixtures.VAULT_UUID);
            assertThat(a.wire()).contains("target_uuid=uuid:" + PolicyFixtures.VAULT_UUID);
        }

        @Test
        void dispvmOfName_matchesAtDispvm_whenItIsTheCallersDefault() {
            String p = "qubes.X * @anyvm @dispvm:fedora-dvm allow\n";
            assertThat(allowed(decide(p, "work", "@dispvm", "qubes.X")).target()).isEqualTo("@dispvm:fedora-dvm");
            assertThat(decide(p, "vault", "@dispvm", "qubes.X")).isInstanceOf(Resolution.Deny.class);
        }

        @Test
        void dispvmTag_matchesTemplatesWithTheTag() {
            String p = "qubes.X * @anyvm @dispvm:@tag:work allow\n";
            assertThat(allowed(decide(p, "work", "@dispvm:debian-dvm", "qubes.X")).target())
                    .isEqualTo("@dispvm:debian-dvm");
            assertThat(decide(p, "work", "@dispvm:fedora-dvm", "qubes.X")).isInstanceOf(Resolution.Deny.class);
        }

        @Test
        void dispvmTokens_inTheSourceColumn_neverMatchACaller() {
            assertThat(denied(decide("qubes.X * @dispvm:fedora-dvm @anyvm allow\n", "fedora-dvm", "work",
                    "qubes.X")).reason()).isEqualTo("no matching rule found");
        }
    }

    @Nested
    class Allow {
        @Test
        void targetParameter_redirectsTheCall() {
            var a = allowed(decide("qubes.X * work @default allow target=vault\n", "work", "", "qubes.X"));
            assertThat(a.target()).isEqualTo("vault");
            assertThat(a.wire()).isEqualTo("user=DEFAULT\nresult=allow\ntarget=vault\ntarget_uuid=uuid:"
                    + PolicyFixtures.VAULT_UUID + "\nautostart=True\nrequested_target=@default");
        }

        @Test
        void unknownQube_isTreatedAsDefault() {
            var a = allowed(decide("qubes.X * work @default allow target=vault\n", "work", "no-such-qube",
                    "qubes.X"));
            assertThat(a.wire()).endsWith("requested_target=@default");
        }

        @Test
        void dispvm_becomesTheCallersDefaultDispvm() {
            var a = allowed(decide("qubes.X * @anyvm @dispvm allow\n", "work", "@dispvm", "qubes.X"));
            assertThat(a.target()).isEqualTo("@dispvm:fedora-dvm");
            assertThat(a.wire()).contains("target_uuid=@dispvm:uuid:11111111-0000-0000-0000-000000000004");
        }

        @Test
        void autostartNo_deniesAHaltedTarget_allowsARunningOne() {
            String p = "qubes.X * @anyvm @anyvm allow autostart=no\n";
            assertThat(denied(decide(p, "work", "vault", "qubes.X")).reason())
                    .isEqualTo("target vault is denied because it would require autostart");
            var a = allowed(decide(p, "vault", "work", "qubes.X"));
            assertThat(a.wire()).contains("autostart=False");
        }

        /** Each row: the one rule; the caller; the target it asks for; why the call is denied. */
        @ParameterizedTest(name = "{1} -> {2}: {3}")
        @CsvSource(delimiter = ';', quoteCharacter = '"', textBlock = """
                qubes.X * work @anyvm allow; work; @default; policy define 'allow' action at test.policy:1 but no target is specified by caller or policy
                qubes.X * @anyvm @dispvm allow; vault; @dispvm; policy define 'allow' action to @dispvm at test.policy:1 but no DispVM base is set for this VM
                qubes.X * @anyvm * allow; work; @dispvm:vault; not a template for dispvm: vault
                qubes.X * @anyvm @anyvm allow; work; work; loopback qrexec connection not supported
                """)
        void defaultWithoutTarget_dispvmWithoutBaseOrOfANonTemplate_andACallToItself_areDenied(
                String rule, String source, String target, String reason) {
            assertThat(denied(decide(rule + "\n", source, target, "qubes.X")).reason()).isEqualTo(reason);
        }

        @Test
        void user_isPassedOn() {
            assertThat(allowed(decide("qubes.X * @anyvm @anyvm allow user=root\n", "work", "vault", "qubes.X"))
                    .wire()).startsWith("user=root\nresult=allow\n");
        }

        @Test
        void remoteVm_goesThroughItsRelay_withTheTransportService() {
            var a = allowed(decide("qubes.X * @anyvm remote allow user=root\n", "work", "remote", "qubes.X+a"));
            assertThat(a.wire()).isEqualTo("user=DEFAULT\nresult=allow\ntarget=sys-net\ntarget_uuid=uuid:"
                    + "11111111-0000-0000-0000-000000000009\nautostart=True\nrequested_target=remote\n"
                    + "service=qubesair.SSHProxy+remote+qubes.X+a");
        }

        @Test
        void requestedSource_isTheRemoteVm_whenTheRelayAsks() {
            var p = policy("qubes.X * remote work allow\n");
            var r = p.evaluate(new Request("qubes.X", "+", "sys-net", "work", "remote"), system());
            assertThat(allowed(r).wire()).endsWith("requested_target=work\npolicy_source=remote");
            var wrongRelay = p.evaluate(new Request("qubes.X", "+", "work", "vault", "remote"), system());
            assertThat(denied(wrongRelay).reason()).isEqualTo("work is not a relay for remote");
            var notRemote = p.evaluate(new Request("qubes.X", "+", "sys-net", "vault", "work"), system());
            assertThat(denied(notRemote).reason()).isEqualTo("work: requested source is only authorized for RemoteVM");
        }
    }

    @Nested
    class Deny {
        @Test
        void notify_defaultsToYes_andCanBeTurnedOff() {
            assertThat(decide("qubes.X * @anyvm @anyvm deny\n", "work", "vault", "qubes.X").notifyUser()).isTrue();
            assertThat(decide("qubes.X * @anyvm @anyvm deny notify=no\n", "work", "vault", "qubes.X").notifyUser())
                    .isFalse();
        }

        @Test
        void invalidRequestTarget_isDenied_beforeAnyRule() {
            var d = denied(decide("* * @anyvm * allow\n", "work", "@anyvm", "qubes.X"));
            assertThat(d.reason()).isEqualTo("invalid intendedtarget token: '@anyvm'");
        }
    }

    @Nested
    class Ask {
        @Test
        void targets_areEveryQubeMatchingRulesAllow_minusDenies_caller_andInternalQubes() {
            var a = asked(decide("""
                    qubes.X * @anyvm vault deny
                    qubes.X * @anyvm @anyvm ask
                    """, "work", "personal", "qubes.X"));
            assertThat(a.targets()).containsExactly("@dispvm:debian-dvm", "@dispvm:fedora-dvm", "debian-dvm",
                    "fedora-41", "fedora-dvm", "personal", "remote", "sys-net");
        }

        @Test
        void targets_fromTaggedRules() {
            var a = asked(decide("qubes.X * work @tag:work ask\nqubes.X * work @tag:secret ask\n", "work", "vault",
                    "qubes.X"));
            assertThat(a.targets()).containsExactly("debian-dvm", "vault");
        }

        @Test
        void laterDeny_doesNotTakeAwayWhatAnEarlierRuleOffers() {
            var a = asked(decide("qubes.X * work @tag:work ask\nqubes.X * work debian-dvm deny\n", "work",
                    "debian-dvm", "qubes.X"));
            assertThat(a.targets()).containsExactly("debian-dvm");
        }

        @Test
        void targetParameter_isTheOnlyChoice() {
            var a = asked(decide("qubes.X * @anyvm @anyvm ask target=@adminvm\n", "work", "vault", "qubes.X"));
            assertThat(a.targets()).containsExactly("dom0");
        }

        @Test
        void defaultTarget_isKept_whenItIsAChoice_andDroppedOtherwise() {
            assertThat(asked(decide("qubes.X * @anyvm @tag:secret ask default_target=vault\n", "work", "vault",
                    "qubes.X")).defaultTarget()).isEqualTo("vault");
            assertThat(asked(decide("qubes.X * @anyvm @tag:secret ask default_target=personal\n", "work", "vault",
                    "qubes.X")).defaultTarget()).isNull();
        }

        @Test
        void defaultTargetDispvm_isTheCallersDefaultDispvm() {
            var a = asked(decide("qubes.X * @anyvm @dispvm ask default_target=@dispvm\n", "work", "@dispvm",
                    "qubes.X"));
            assertThat(a.targets()).containsExactly("@dispvm:fedora-dvm");
            assertThat(a.defaultTarget()).isEqualTo("@dispvm:fedora-dvm");
        }

        @Test
        void autostartNo_offersOnlyRunningTargets() {
            var a = asked(decide("qubes.X * @anyvm @anyvm ask autostart=no\n", "personal", "work", "qubes.X"));
            assertThat(a.targets()).containsExactly("remote", "sys-net", "work")
                    .doesNotContain("vault");
        }

        @Test
        void noChoiceLeft_isDenied() {
            var d = denied(decide("qubes.X * work debian-dvm deny\nqubes.X * work @tag:work ask\n", "work",
                    "sys-hidden", "qubes.X"));
            assertThat(d.reason()).isEqualTo("policy define 'ask' action at test.policy:2 but no target is "
                    + "available to choose from");
        }

        @Test
        void assumeYes_answersForTheRequestedTarget() {
            var p = policy("qubes.X * @anyvm @anyvm ask\n");
            var a = allowed(p.evaluate(Request.of("qubes.X", "work", "vault"), system(), true));
            assertThat(a.target()).isEqualTo("vault");
            var d = denied(p.evaluate(Request.of("qubes.X", "work", "@default"), system(), true));
            assertThat(d.reason()).isEqualTo("target @default is not a valid choice");
        }
    }

    @Nested
    class FailClosed {
        @Test
        void anySyntaxError_deniesEveryCall_namingFileAndLine() {
            var p = policy("qubes.X * @anyvm @anyvm allow\nqubes.Y * work\n");
            assertThat(p.valid()).isFalse();
            var d = denied(p.evaluate(Request.of("qubes.X", "work", "vault"), system()));
            assertThat(d.reason()).startsWith("test.policy:2: wrong number of fields");
            assertThat(d.log()).contains("error loading policy: test.policy:2:");
        }
    }

    @Nested
    class AuditLine {
        @Test
        void allowAndDeny_useQubesJournalFormat() {
            assertThat(decide("qubes.X * @anyvm @anyvm allow\n", "work", "vault", "qubes.X+a").log())
                    .isEqualTo("qrexec: qubes.X+a: work -> vault: allowed to vault");
            assertThat(decide("qubes.X * @anyvm @anyvm deny\n", "work", "vault", "qubes.X+a").log())
                    .isEqualTo("qrexec: qubes.X+a: work -> vault: denied: denied by policy test.policy:1");
        }

        @Test
        void untrustedBytes_areEscaped() {
            var r = decide("qubes.X * @anyvm @anyvm deny\n", "work\nqrexec: forged", "vault\u001b[31m", "qubes.X");
            assertThat(r.log()).doesNotContain("\n").doesNotContain("\u001b").contains("work\\x0aqrexec: forged")
                    .contains("vault\\x1b[31m");
        }
    }
}
