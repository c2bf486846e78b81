package compart.policy.parse;

import compart.policy.Diagnostic;
import compart.policy.model.Rule;
import compart.policy.parse.TokenParser.Failure;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Loads a Qubes policy from its directories, the way {@code qrexec.policy.parser.FilePolicy} does.
 *
 * <ul>
 *   <li>Each directory is listed; only regular files (symbolic links followed) named {@code *.policy} and not
 *       starting with {@code .} count. One such name with a character outside {@code [0-9a-z_.-]} makes the
 *       whole policy invalid.</li>
 *   <li>Directories are merged by file name, the first directory that has a name wins; the files are then read
 *       in C-locale order of their names.</li>
 *   <li>{@code !include FILE}, {@code !include-dir DIR} and {@code !include-service SERVICE ARG FILE} resolve
 *       relative paths against the directory of the top-level file being read; {@code !compat-4.0} reads the
 *       R4.0 files of the legacy directory.</li>
 * </ul>
 *
 * <p>Unlike Qubes, reading does not stop at the first problem: every problem is collected (for lint), and an
 * include loop is reported instead of recursing forever. Not thread safe; use one loader per load.
 */
public final class PolicyLoader {
    /** Where Qubes keeps the system policy. */
    public static final Path ETC_POLICY_DIR = Path.of("/etc/qubes/policy.d");
    /** Where Qubes keeps runtime policy; it comes first. */
    public static final Path RUN_POLICY_DIR = Path.of("/run/qubes/policy.d");
    /** The R4.0 policy that {@code !compat-4.0} reads. */
    public static final Path LEGACY_POLICY_DIR = Path.of("/etc/qubes-rpc/policy");
    /** Includes nested deeper than this are refused (Qubes allows itself such a limit). */
    public static final int MAX_INCLUDE_DEPTH = 32;

    private static final String SUFFIX = ".policy";
    private static final List<String> LEGACY_IGNORED_SUFFIXES = List.of(".rpmsave", ".rpmnew", ".swp");

    private final List<Path> dirs;
    private final Path legacyDir;
    private final List<Rule> rules = new ArrayList<>();
    private final List<Diagnostic> diagnostics = new ArrayList<>();
    private final List<Path> inputs = new ArrayList<>();
    /** Real paths of the files and directories being read, outermost first: include loops show up here. */
    private final Deque<Path> reading = new ArrayDeque<>();
    private Path policyDir;

    private PolicyLoader(List<Path> dirs, Path legacyDir) {
        this.dirs = List.copyOf(dirs);
        this.legacyDir = legacyDir == null ? LEGACY_POLICY_DIR : legacyDir;
    }

    /**
     * Loads the policy from directories (earlier ones win for a file name).
     *
     * @param dirs      the policy directories, usually {@link #RUN_POLICY_DIR} then {@link #ETC_POLICY_DIR}
     * @param legacyDir the directory {@code !compat-4.0} reads; null for {@link #LEGACY_POLICY_DIR}
     * @return the rules and problems; never throws for bad input
     */
    public static LoadedPolicy load(List<Path> dirs, Path legacyDir) {
        PolicyLoader l = new PolicyLoader(dirs, legacyDir);
        l.loadDirs();
        return l.result();
    }

    /**
     * Loads a single file as if it were the only one in its directory (lint of one file, tests).
     *
     * @param file      the file; its directory is the base of relative includes
     * @param legacyDir for {@code !compat-4.0}; null for the default
     */
    public static LoadedPolicy loadFile(Path file, Path legacyDir) {
        PolicyLoader l = new PolicyLoader(List.of(), legacyDir);
        Path dir = file.getParent() == null ? Path.of(".") : file.getParent();
        l.policyDir = dir;
        l.readFile(file, display(file), null, null);
        return l.result();
    }

    /**
     * Parses policy text that is not in a file (fuzzing, tests, an editor's buffer).
     *
     * @param text    the policy text
     * @param name    the name to give in messages
     * @param baseDir the directory relative includes resolve against
     */
    public static LoadedPolicy loadText(String text, String name, Path baseDir) {
        PolicyLoader l = new PolicyLoader(List.of(), null);
        l.policyDir = baseDir;
        l.readBytes(text.getBytes(StandardCharsets.UTF_8), name, false, null, null);
        return l.result();
    }

    private LoadedPolicy result() {
        return new LoadedPolicy(rules, diagnostics, inputs);
    }

    // ---------------------------------------------------------------- directories

    private void loadDirs() {
        Map<String, Path> chosen = new TreeMap<>();
        for (Path dir : dirs) {
            inputs.add(dir);
            List<Path> files = policyFiles(dir, null, null);
            if (files == null) continue;
            for (Path f : files) chosen.putIfAbsent(f.getFileName().toString(), f);
        }
        for (Path f : chosen.values()) {
            policyDir = f.getParent();
            readFile(f, display(f), null, null);
        }
    }

    /**
     * Lists the policy files of a directory in name order; reports each bad name (which makes the whole policy
     * invalid) and leaves it out.
     *
     * @return the files with valid names, or null if the directory could not be read
     */
    private List<Path> policyFiles(Path dir, String byFile, Integer byLine) {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!name.endsWith(SUFFIX) || name.startsWith(".") || !Files.isRegularFile(p)) continue;
                files.add(p);
            }
        } catch (IOException | SecurityException e) {
            diagnostics.add(new Diagnostic(byFile == null ? display(dir) : byFile, byLine,
                    "failed to load " + display(dir) + ": " + describe(e),
                    "create the directory or make it readable by the policy engine"));
            return null;
        }
        files.sort(Comparator.comparing(p -> p.getFileName().toString()));
        List<Path> good = new ArrayList<>(files.size());
        for (Path p : files) {
            String name = p.getFileName().toString();
            if (validFileName(name)) {
                good.add(p);
            } else {
                diagnostics.add(new Diagnostic(byFile == null ? display(p) : byFile, byLine,
                        "invalid filename: " + display(p),
                        "policy file names may use only 0-9, a-z, '_', '.' and '-'; rename it, or start its "
                                + "name with '.' to disable it"));
            }
        }
        return good;
    }

    /** @return whether a policy file name uses only {@code [0-9a-z_.-]} */
    public static boolean validFileName(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '_' || c == '.' || c == '-')) return false;
        }
        return true;
    }

    // ---------------------------------------------------------------- files

    /** Reads a v5 policy file ({@code service == null && serviceMode == false}) or an old-syntax one. */
    private void readFile(Path file, String shownName, String byFile, Integer byLine) {
        readAnyFile(file, shownName, false, null, null, byFile, byLine);
    }

    private void readAnyFile(Path file, String shownName, boolean serviceMode, String service, String argument,
                             String byFile, Integer byLine) {
        Path real = realPath(file);
        if (reading.contains(real)) {
            diagnostics.add(new Diagnostic(byFile == null ? shownName : byFile, byLine,
                    "include loop: " + loopText(real),
                    "remove one of the !include lines so that no file includes itself"));
            return;
        }
        if (reading.size() >= MAX_INCLUDE_DEPTH) {
            diagnostics.add(new Diagnostic(byFile == null ? shownName : byFile, byLine,
                    "includes nested deeper than " + MAX_INCLUDE_DEPTH, "flatten the includes"));
            return;
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException | SecurityException e) {
            diagnostics.add(new Diagnostic(byFile == null ? shownName : byFile, byLine,
                    "failed to load " + shownName + ": " + describe(e), "make the file readable"));
            return;
        }
        inputs.add(file);
        reading.push(real);
        try {
            readBytes(bytes, shownName, serviceMode, service, argument);
        } finally {
            reading.pop();
        }
    }

    private String loopText(Path again) {
        List<String> chain = new ArrayList<>();
        for (var it = reading.descendingIterator(); it.hasNext(); ) chain.add(it.next().toString());
        int start = chain.indexOf(again.toString());
        List<String> loop = new ArrayList<>(chain.subList(Math.max(0, start), chain.size()));
        loop.add(again.toString());
        return String.join(" -> ", loop);
    }

    /** Reads a whole file's bytes: decoded at once when valid UTF-8, line by line (to name the bad line) if not. */
    private void readBytes(byte[] bytes, String file, boolean serviceMode, String service, String argument) {
        String all;
        try {
            all = strictUtf8(bytes);
        } catch (CharacterCodingException e) {
            readLines(splitLines(bytes), file, serviceMode, service, argument);
            return;
        }
        List<String> lines = new ArrayList<>();
        int start = 0;
        int n = all.length();
        for (int i = 0; i < n; i++) {
            char c = all.charAt(i);
            if (c == '\n' || c == '\r') {
                lines.add(all.substring(start, i));
                if (c == '\r' && i + 1 < n && all.charAt(i + 1) == '\n') i++;
                start = i + 1;
            }
        }
        if (start < n) lines.add(all.substring(start));
        readText(lines, file, serviceMode, service, argument);
    }

    private static String strictUtf8(byte[] raw) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
    }

    private void readLines(List<byte[]> lines, String file, boolean serviceMode, String service, String argument) {
        List<String> texts = new ArrayList<>(lines.size());
        for (byte[] raw : lines) {
            try {
                texts.add(strictUtf8(raw));
            } catch (CharacterCodingException e) {
                diagnostics.add(new Diagnostic(file, texts.size() + 1, "line is not valid UTF-8 text",
                        "save the file as UTF-8 (policy files are plain text)"));
                texts.add("");
            }
        }
        readText(texts, file, serviceMode, service, argument);
    }

    private void readText(List<String> lines, String file, boolean serviceMode, String service, String argument) {
        int lineNo = 0;
        for (String text : lines) {
            lineNo++;
            String line = PyText.strip(text);
            if (line.isEmpty() || line.charAt(0) == '#') continue;
            if (serviceMode) {
                line = line.replace("$include:", "!include ").replace('$', '@').replace(',', ' ');
                if (line.startsWith("!")) {
                    serviceDirective(line, file, lineNo, service, argument);
                    continue;
                }
                add(RuleParser.parseServiceLine(service, argument, line, file, lineNo), file, lineNo);
            } else {
                if (line.startsWith("!")) {
                    directive(line, file, lineNo);
                    continue;
                }
                add(RuleParser.parseLine(line, file, lineNo), file, lineNo);
            }
        }
    }

    private void add(RuleParser.Parsed parsed, String file, Integer lineNo) {
        switch (parsed) {
            case RuleParser.Parsed.Ok ok -> rules.add(ok.rule());
            case RuleParser.Parsed.Error err ->
                    diagnostics.add(new Diagnostic(file, lineNo, err.problem().message(), err.problem().hint()));
        }
    }

    private void error(String file, int lineNo, String message, String hint) {
        diagnostics.add(new Diagnostic(file, lineNo, message, hint));
    }

    private static final String DIRECTIVES_HINT =
            "the directives are !include FILE, !include-dir DIR, !include-service SERVICE ARGUMENT FILE "
                    + "and !compat-4.0";

    private void directive(String line, String file, int lineNo) {
        List<String> f = PyText.split(line);
        String directive = f.get(0);
        List<String> params = f.subList(1, f.size());
        switch (directive) {
            case "!include" -> {
                if (!paramCount(params, 1, "write !include FILE", file, lineNo)) {
                    return;
                }
                Path target = resolve(policyDir, params.get(0));
                if (badPath(target, params.get(0), file, lineNo)) return;
                if (!isFile(target, file, lineNo)) {
                    return;
                }
                readFile(target, target.toString(), file, lineNo);
            }
            case "!include-dir" -> {
                if (!paramCount(params, 1, "write !include-dir DIRECTORY", file, lineNo)) {
                    return;
                }
                Path target = resolve(policyDir, params.get(0));
                if (badPath(target, params.get(0), file, lineNo)) return;
                if (!Files.isDirectory(target)) {
                    error(file, lineNo, "not a directory: " + target, "create " + target + " or fix the path");
                    return;
                }
                Path real = realPath(target);
                if (reading.contains(real)) {
                    error(file, lineNo, "include loop: " + loopText(real),
                            "remove the !include-dir that includes its own directory");
                    return;
                }
                inputs.add(target);
                List<Path> files = policyFiles(target, file, lineNo);
                if (files == null) return;
                reading.push(real);
                try {
                    for (Path p : files) readFile(p, display(p), file, lineNo);
                } finally {
                    reading.pop();
                }
            }
            case "!include-service" -> {
                if (!paramCount(params, 3, "write !include-service SERVICE ARGUMENT FILE", file, lineNo)) {
                    return;
                }
                includeService(policyDir, params.get(0), params.get(1), params.get(2), file, lineNo);
            }
            case "!compat-4.0" -> {
                if (!paramCount(params, 0, "write !compat-4.0 alone on its line", file, lineNo)) {
                    return;
                }
                compat40(file, lineNo);
            }
            default -> error(file, lineNo, "invalid directive", DIRECTIVES_HINT);
        }
    }

    /** Reports "invalid number of params" (with {@code usage} as the hint) unless there are {@code count}. */
    private boolean paramCount(List<String> params, int count, String usage, String file, int lineNo) {
        if (params.size() != count) {
            error(file, lineNo, "invalid number of params", usage);
            return false;
        }
        return true;
    }

    /** Reports "not a file" unless {@code target} is a regular file. */
    private boolean isFile(Path target, String file, int lineNo) {
        if (!Files.isRegularFile(target)) {
            error(file, lineNo, "not a file: " + target, "create " + target + " or fix the path");
            return false;
        }
        return true;
    }

    private void serviceDirective(String line, String file, int lineNo, String service, String argument) {
        List<String> f = PyText.split(line);
        if (!f.get(0).equals("!include")) {
            error(file, lineNo, "invalid directive",
                    "a file included with !include-service may only use !include FILE ($include:FILE)");
            return;
        }
        if (f.size() != 2) {
            error(file, lineNo, "invalid number of params", "write !include FILE");
            return;
        }
        includeServiceFile(policyDir, service, argument, f.get(1), file, lineNo);
    }

    private void includeService(Path base, String service, String argument, String path, String file, int lineNo) {
        RuleParser.ServiceArgument sa;
        try {
            sa = RuleParser.checkServiceArgument(service, argument);
        } catch (Failure e) {
            error(file, lineNo, e.problem.message(), e.problem.hint());
            return;
        }
        includeServiceFile(base, sa.service(), sa.argument(), path, file, lineNo);
    }

    private void includeServiceFile(Path base, String service, String argument, String path, String file,
                                    int lineNo) {
        Path target = resolve(base, path);
        if (badPath(target, path, file, lineNo)) return;
        if (!isFile(target, file, lineNo)) {
            return;
        }
        readAnyFile(target, target.toString(), true, service, argument, file, lineNo);
    }

    // ---------------------------------------------------------------- !compat-4.0

    private void compat40(String file, int lineNo) {
        Map<String, Map<String, Path>> services = new TreeMap<>();
        inputs.add(legacyDir);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(legacyDir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!Files.isRegularFile(p) || LEGACY_IGNORED_SUFFIXES.contains(suffix(name))
                        || name.startsWith(".") || !allRpcChars(name)) {
                    continue;
                }
                int plus = name.indexOf('+');
                String service = plus < 0 ? name : name.substring(0, plus);
                String argument = plus < 0 ? "*" : name.substring(plus);
                services.computeIfAbsent(service, s -> new LinkedHashMap<>()).put(argument, p);
            }
        } catch (IOException | SecurityException e) {
            error(file, lineNo, "failed to load " + display(legacyDir) + ": " + describe(e),
                    "create the R4.0 policy directory or remove !compat-4.0");
            return;
        }
        Path savedDir = policyDir;
        policyDir = legacyDir;
        try {
            for (var svc : services.entrySet()) {
                List<String> args = new ArrayList<>(svc.getValue().keySet());
                args.sort((a, b) -> a.equals(b) ? 0 : a.equals("*") ? 1 : b.equals("*") ? -1 : a.compareTo(b));
                for (String arg : args) {
                    Path p = svc.getValue().get(arg);
                    includeService(legacyDir, svc.getKey(), arg, p.toString(), file, lineNo);
                    if (!arg.equals("*")) {
                        // the denies R4.0 implied after a file for one argument
                        add(RuleParser.parseServiceLine(svc.getKey(), arg, "@anyvm @anyvm deny", display(p), null),
                                display(p), null);
                        add(RuleParser.parseServiceLine(svc.getKey(), arg, "@anyvm @adminvm deny", display(p), null),
                                display(p), null);
                    }
                }
            }
        } finally {
            policyDir = savedDir;
        }
    }

    private static boolean allRpcChars(String name) {
        for (int i = 0; i < name.length(); i++) {
            if (!RuleParser.rpcNameChar(name.charAt(i))) return false;
        }
        return true;
    }

    /** Python's {@code PurePath.suffix}. */
    private static String suffix(String name) {
        int i = name.lastIndexOf('.');
        return i > 0 && i < name.length() - 1 ? name.substring(i) : "";
    }

    // ---------------------------------------------------------------- paths and lines

    /** Python's {@code (base / path).resolve()}: absolute, symbolic links resolved where they exist. */
    static Path resolve(Path base, String path) {
        try {
            return realPath(base.resolve(path).toAbsolutePath().normalize());
        } catch (InvalidPathException e) {
            return null;
        }
    }

    private boolean badPath(Path resolved, String given, String file, int lineNo) {
        if (resolved != null) return false;
        error(file, lineNo, "invalid path: " + PyText.repr(given), "write a plain file system path");
        return true;
    }

    private static Path realPath(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException | SecurityException e) {
            Path parent = p.toAbsolutePath().normalize().getParent();
            if (parent == null || parent.equals(p)) return p.toAbsolutePath().normalize();
            return realPath(parent).resolve(p.getFileName());
        }
    }

    /** A path as pathlib prints it: no {@code .} components, no trailing slash. */
    static String display(Path p) {
        StringBuilder b = new StringBuilder();
        if (p.isAbsolute()) b.append('/');
        boolean first = true;
        for (Path part : p) {
            String s = part.toString();
            if (s.equals(".")) continue;
            if (!first) b.append('/');
            b.append(s);
            first = false;
        }
        return b.isEmpty() ? "." : b.toString();
    }

    private static String describe(Exception e) {
        if (e instanceof NoSuchFileException) return "No such file or directory";
        if (e instanceof AccessDeniedException) return "Permission denied";
        if (e instanceof NotDirectoryException) return "Not a directory";
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** Splits bytes into lines at {@code \n}, {@code \r\n} and {@code \r}, as Python's text files do. */
    static List<byte[]> splitLines(byte[] b) {
        List<byte[]> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < b.length) {
            byte c = b[i];
            if (c == '\n' || c == '\r') {
                out.add(Arrays.copyOfRange(b, start, i));
                if (c == '\r' && i + 1 < b.length && b[i + 1] == '\n') i++;
                start = i + 1;
            }
            i++;
        }
        if (start < b.length) out.add(Arrays.copyOfRange(b, start, b.length));
        return out;
    }
}
