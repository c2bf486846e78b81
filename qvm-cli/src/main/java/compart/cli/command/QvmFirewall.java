package compart.cli.command;

import compart.cli.Version;
import compart.cli.format.JsonText;
import compart.cli.format.Table;
import compart.errors.CompartException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code qvm-firewall [--raw] [--reload] VMNAME [list | add [--before N] RULE... | del [--rule-no N] [RULE...] |
 * reset]}: a qube's firewall rules through {@code admin.vm.firewall.Get/Set/Reload}, as Qubes' qvm-firewall
 * manages them. The rule words are read by {@link RuleWords}, the rules checked and written by
 * {@link FirewallRule}. A word Qubes' tool refuses while reading its command line is a usage error (exit code 2);
 * a value it refuses afterwards, or a rule to delete that is not there, fails with {@code Error: ...} and exit
 * code 1.
 */
@Command(name = "qvm-firewall", description = "Manage a qube's firewall rules", mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        subcommands = {QvmFirewall.ListRules.class, QvmFirewall.Add.class, QvmFirewall.Del.class,
            QvmFirewall.Reset.class},
        footer = {"", "A rule is words, by position or by name, in any mix:",
            "  ACTION [DSTHOST [PROTO [DSTPORTS | ICMPTYPE]]]",
            "  action=ACTION dsthost=HOST proto=PROTO dstports=PORTS icmptype=TYPE",
            "  specialtarget=dns expire=WHEN comment=TEXT",
            "", "  action         accept or drop",
            "  dsthost        a host name, an address or a network (also: dst4, dst6)",
            "  proto          tcp, udp or icmp",
            "  dstports       a port or a range FIRST-LAST (tcp and udp only)",
            "  icmptype       an ICMP type number (icmp only)",
            "  specialtarget  dns: the qube's DNS servers",
            "  expire         the rule's end: seconds since 1970, or +SECONDS from now",
            "  comment        free text (one word on the command line; quote it)"})
public final class QvmFirewall extends QvmCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "VMNAME", description = "a domain name")
    String vmname;

    /** Words where a subcommand should be: refused with Qubes' message. */
    @Parameters(index = "1..*", arity = "0..*", hidden = true)
    List<String> unknown = new ArrayList<>();

    @Option(names = {"--reload", "-r"}, description = "force reload of rules even when unchanged (list only)")
    boolean reload;

    @Option(names = "--raw", description = "output rules as the Admin API's lines, instead of a table")
    boolean raw;

    @Option(names = "--format", paramLabel = "FORMAT", description = "text (default) or json, for list")
    OutputFormat format = OutputFormat.text;

    @Override
    public Integer call() {
        if (!unknown.isEmpty()) {
            throw usage("argument command: invalid choice: '" + unknown.getFirst()
                    + "' (choose from 'add', 'del', 'list', 'reset')");
        }
        return list(this);
    }

    /** @return the qube named on the command line (a usage error of this command when none is) */
    private String qube() {
        if (vmname == null) {
            throw usage("the following arguments are required: VMNAME");
        }
        return resolveOne(vmname).name();
    }

    @Override
    public String failurePrefix() {
        return "Error: ";
    }

    /** The rules of the named qube, as the daemon answers them. */
    private List<FirewallRule> rules(String qube) {
        List<FirewallRule> rules = new ArrayList<>();
        for (String line : client().call(qube, "admin.vm.firewall.Get", null, null).text().split("\n")) {
            if (!line.isEmpty()) {
                rules.add(FirewallRule.parse(line));
            }
        }
        return rules;
    }

    private void save(String qube, List<FirewallRule> rules) {
        var payload = new StringBuilder();
        rules.forEach(r -> payload.append(r.line()).append('\n'));
        client().call(qube, "admin.vm.firewall.Set", null, payload.toString()).orThrow();
    }

    private int list(QvmCommand command) {
        String qube = qube();
        List<FirewallRule> rules = rules(qube);
        if (format == OutputFormat.json) {
            List<Object> all = new ArrayList<>();
            for (int i = 0; i < rules.size(); i++) {
                Map<String, Object> rule = new LinkedHashMap<>();
                rule.put("no", i);
                rule.putAll(rules.get(i).json());
                all.add(rule);
            }
            command.out().println(JsonText.write(all));
        } else if (raw) {
            rules.forEach(r -> command.out().println(r.line()));
        } else {
            long now = System.currentTimeMillis();
            List<List<String>> table = new ArrayList<>();
            table.add(List.of("NO", "ACTION", "HOST", "PROTOCOL", "PORT(S)", "SPECIAL TARGET", "ICMP TYPE", "EXPIRE",
                    "COMMENT"));
            for (int i = 0; i < rules.size(); i++) {
                List<String> row = new ArrayList<>();
                row.add(Integer.toString(i));
                row.addAll(rules.get(i).cells(now));
                table.add(row);
            }
            command.out().print(Table.render(table));
        }
        command.out().flush();
        if (reload) {
            client().call(qube, "admin.vm.firewall.Reload", null, null).orThrow();
        }
        return 0;
    }

    /** What the subcommands share: the parent's qube and options, and its error style. */
    abstract static class Sub extends QvmCommand {
        @ParentCommand
        QvmFirewall parent;

        @Override
        public String failurePrefix() {
            return "Error: ";
        }

        /** @return the rule the words describe (a usage error for a misspelled word) */
        FirewallRule rule(List<String> words) {
            return RuleWords.rule(words, System.currentTimeMillis(), this::usage);
        }
    }

    @Command(name = "list", description = "list rules", mixinStandardHelpOptions = true)
    static final class ListRules extends Sub {
        @Override
        public Integer call() {
            return parent.list(this);
        }
    }

    @Command(name = "add", description = "add a rule", mixinStandardHelpOptions = true)
    static final class Add extends Sub {
        @Option(names = "--before", paramLabel = "BEFORE",
                description = "add the rule before the rule with this number instead of at the end")
        Integer before;

        @Parameters(arity = "0..*", paramLabel = "match", description = "the rule's words")
        List<String> words = new ArrayList<>();

        @Override
        public Integer call() {
            if (words.isEmpty()) {
                throw usage("the following arguments are required: match");
            }
            FirewallRule rule = rule(words);
            String qube = parent.qube();
            List<FirewallRule> rules = parent.rules(qube);
            rules.add(before == null ? rules.size() : insertionPoint(before, rules.size()), rule);
            parent.save(qube, rules);
            return 0;
        }
    }

    @Command(name = "del", description = "remove a rule", mixinStandardHelpOptions = true)
    static final class Del extends Sub {
        @Parameters(arity = "0..*", paramLabel = "match", description = "the rule to remove")
        List<String> words = new ArrayList<>();

        @Option(names = "--rule-no", paramLabel = "RULE_NO", description = "the rule's number (it wins over a rule)")
        Integer ruleNo;

        @Override
        public Integer call() {
            FirewallRule rule = words.isEmpty() ? null : rule(words);
            String qube = parent.qube();
            List<FirewallRule> rules = parent.rules(qube);
            if (ruleNo != null) {
                int index = ruleNo < 0 ? ruleNo + rules.size() : ruleNo;
                if (index < 0 || index >= rules.size()) {
                    throw CompartException.invalidValue("no rule number %d: %s has %d rules", ruleNo, qube,
                            rules.size());
                }
                rules.remove(index);
            } else {
                int index = rule == null ? -1
                        : rules.stream().map(FirewallRule::line).toList().indexOf(rule.line());
                if (index < 0) {
                    throw CompartException.notFound("%s has no rule %s", qube,
                            rule == null ? "to delete: give a rule or --rule-no" : "'" + rule.line() + "'");
                }
                rules.remove(index);
            }
            parent.save(qube, rules);
            return 0;
        }
    }

    @Command(name = "reset", description = "remove all firewall rules and reset to default (accept all connections)",
            mixinStandardHelpOptions = true)
    static final class Reset extends Sub {
        @Override
        public Integer call() {
            String qube = parent.qube();
            parent.rules(qube); // read first, as Qubes' tool does: a qube without a firewall fails the same way
            parent.save(qube, List.of(FirewallRule.of(Map.of("action", "accept"))));
            return 0;
        }
    }

    /** Where Python's {@code list.insert(before, rule)} puts a rule in a list of {@code size}. */
    static int insertionPoint(int before, int size) {
        int index = before < 0 ? before + size : before;
        return Math.max(0, Math.min(index, size));
    }
}
