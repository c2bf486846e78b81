package compart.cli.command;

import compart.cli.Version;
import compart.cli.client.Reply;
import compart.cli.format.JsonText;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qvm-tags VMNAME [list [TAG] | add TAG... | del TAG]} (and Qubes' aliases: ls/l, a/set, d/unset/u).
 * Listing is the default; querying one tag answers with the exit code (1: not set).
 */
@Command(name = "qvm-tags", description = "manage domain's tags", mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        footer = {"", "commands:", "  list (ls, l) [TAG]      list tags, or check one (exit code 1: not set)",
            "  add (a, set) TAG...     add tags", "  del (d, unset, u) TAG   remove a tag"})
public final class QvmTags extends QvmCommand {
    @Parameters(index = "0", paramLabel = "VMNAME", description = "a domain name")
    String vmname;

    @Parameters(index = "1", arity = "0..1", paramLabel = "COMMAND", description = "list, add or del")
    String command;

    @Parameters(index = "2..*", arity = "0..*", paramLabel = "TAG", description = "tags")
    List<String> tags = new ArrayList<>();

    @Option(names = "--format", paramLabel = "FORMAT", description = "text (default) or json, for list")
    OutputFormat format = OutputFormat.text;

    @Override
    public Integer call() {
        String action = command == null ? "list" : switch (command) {
            case "list", "ls", "l" -> "list";
            case "add", "a", "set" -> "add";
            case "del", "d", "unset", "u" -> "del";
            default -> throw usage("argument command: invalid choice: '" + command
                    + "' (choose from 'list', 'ls', 'l', 'add', 'a', 'set', 'del', 'd', 'unset', 'u')");
        };
        String qube = resolveOne(vmname).name();
        switch (action) {
            case "list" -> {
                if (tags.size() > 1) {
                    throw usage("unrecognized arguments: " + String.join(" ", tags.subList(1, tags.size())));
                }
                List<String> all = client().tags(qube).stream().sorted().toList();
                if (!tags.isEmpty()) {
                    if (!all.contains(tags.getFirst())) {
                        return 1;
                    }
                    out().println(tags.getFirst());
                } else if (format == OutputFormat.json) {
                    out().println(JsonText.write(all));
                } else {
                    all.forEach(out()::println);
                }
            }
            case "add" -> {
                if (tags.isEmpty()) {
                    throw usage("the following arguments are required: tag");
                }
                tags.forEach(t -> client().addTag(qube, t));
            }
            default -> {
                if (tags.size() != 1) {
                    throw usage(tags.isEmpty() ? "the following arguments are required: tag"
                            : "unrecognized arguments: " + String.join(" ", tags.subList(1, tags.size())));
                }
                var reply = client().removeTag(qube, tags.getFirst());
                if (!(reply instanceof Reply.Failure f && f.is("QubesTagNotFoundError"))) {
                    reply.orThrow();
                }
            }
        }
        return 0;
    }
}
