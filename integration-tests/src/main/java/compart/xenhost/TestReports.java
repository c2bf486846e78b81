package compart.xenhost;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * Turns the JUnit console launcher's XML reports from dom0 into what Maven knows: one
 * {@code TEST-<class>.xml} per test class in {@code failsafe-reports} (the launcher writes one file per test
 * engine) and a {@code failsafe-summary.xml} that {@code failsafe:verify} reads to pass or fail the build.
 *
 * <p>The launcher's exit code is a second witness: a non-zero code with no failing test in the reports
 * (the launcher crashed, or a class could not even be initialised) is recorded as an error of its own, so a
 * broken run can never read as green.
 */
public final class TestReports {
    private TestReports() {}

    /** Counts of one class or of the whole run, as Surefire prints them. */
    public record Counts(int tests, int failures, int errors, int skipped) {
        public Counts plus(Counts other) {
            return new Counts(tests + other.tests, failures + other.failures, errors + other.errors,
                    skipped + other.skipped);
        }

        public boolean green() {
            return failures == 0 && errors == 0;
        }

        @Override
        public String toString() {
            return "Tests run: %d, Failures: %d, Errors: %d, Skipped: %d".formatted(tests, failures, errors, skipped);
        }
    }

    /** One failed test, for the build output. */
    public record Failure(String className, String testName, String kind, String message) {}

    /**
     * What was collected.
     *
     * @param perClass counts per test class, in report order
     * @param failures every failed or erroneous test
     */
    public record Collected(Map<String, Counts> perClass, List<Failure> failures) {
        public Counts total() {
            return perClass.values().stream().reduce(new Counts(0, 0, 0, 0), Counts::plus);
        }
    }

    /**
     * Reads every {@code TEST-*.xml} in {@code junitReports}, writes the per-class reports and the summary into
     * {@code failsafeReports}.
     *
     * @param launcherExitCode the exit code of the launcher in dom0 (0 = all passed)
     */
    public static Collected collect(Path junitReports, Path failsafeReports, int launcherExitCode)
            throws IOException {
        return collect(Map.of(junitReports, launcherExitCode), failsafeReports);
    }

    /**
     * Reads the reports of every lane of a run (its {@code TEST-*.xml} directory and its launcher's exit code),
     * writes the per-class reports and one summary into {@code failsafeReports}.
     */
    public static Collected collect(Map<Path, Integer> lanes, Path failsafeReports) throws IOException {
        Files.createDirectories(failsafeReports);
        Map<String, List<Element>> byClass = new LinkedHashMap<>();
        Document target = newDocument();
        var unexplained = new LinkedHashMap<Path, String>();
        for (var lane : new TreeMap<>(lanes).entrySet()) {
            boolean failed = false;
            List<Element> cases = testCases(lane.getKey(), target);
            for (Element testCase : cases) {
                byClass.computeIfAbsent(testCase.getAttribute("classname"), c -> new ArrayList<>()).add(testCase);
                failed |= firstChild(testCase, "failure", "error") != null;
            }
            if (lane.getValue() != 0 && !failed) {
                unexplained.put(lane.getKey(), "the JUnit console launcher in dom0 exited with " + lane.getValue()
                        + (cases.isEmpty() ? " and reported no tests" : " without a failed test"));
            }
        }
        var perClass = new LinkedHashMap<String, Counts>();
        var failures = new ArrayList<Failure>();
        for (var entry : byClass.entrySet()) {
            perClass.put(entry.getKey(), writeClassReport(failsafeReports, entry.getKey(), entry.getValue(), failures));
        }
        for (var lane : unexplained.entrySet()) {
            String name = "dom0 test run" + (lanes.size() == 1 ? "" : " " + lane.getKey());
            String message = lane.getValue() + " (reports: " + lane.getKey() + "); see out/dom0-run.log in that "
                    + "share and the lane's serial log in target/xenhost";
            Element error = target.createElement("testcase");
            error.setAttribute("name", "launcher exit code");
            error.setAttribute("classname", name);
            error.setAttribute("time", "0");
            Element detail = target.createElement("error");
            detail.setAttribute("message", message);
            detail.setAttribute("type", "LauncherFailed");
            error.appendChild(detail);
            perClass.put(name, writeClassReport(failsafeReports, name, List.of(error), failures));
        }
        var collected = new Collected(perClass, failures);
        writeSummary(failsafeReports.resolve("failsafe-summary.xml"), collected.total());
        return collected;
    }

    private static List<Element> testCases(Path junitReports, Document target) throws IOException {
        var cases = new ArrayList<Element>();
        if (Files.isDirectory(junitReports)) {
            try (Stream<Path> files = Files.list(junitReports)) {
                for (Path report : files.filter(p -> p.getFileName().toString().matches("TEST-.*\\.xml")).sorted()
                        .toList()) {
                    NodeList found = parse(report).getElementsByTagName("testcase");
                    for (int i = 0; i < found.getLength(); i++) {
                        cases.add((Element) target.importNode(found.item(i), true));
                    }
                }
            }
        }
        return cases;
    }

    private static Counts writeClassReport(Path dir, String className, List<Element> cases, List<Failure> failures)
            throws IOException {
        Document doc = newDocument();
        Element suite = doc.createElement("testsuite");
        doc.appendChild(suite);
        int failed = 0;
        int errors = 0;
        int skipped = 0;
        double time = 0;
        for (Element testCase : cases) {
            Element copy = (Element) doc.importNode(testCase, true);
            suite.appendChild(copy);
            time += parseTime(copy.getAttribute("time"));
            Element problem = firstChild(copy, "failure", "error");
            if (problem != null) {
                if (problem.getTagName().equals("failure")) {
                    failed++;
                } else {
                    errors++;
                }
                failures.add(new Failure(className, copy.getAttribute("name"), problem.getTagName(),
                        problem.getAttribute("message")));
            } else if (firstChild(copy, "skipped") != null) {
                skipped++;
            }
        }
        suite.setAttribute("name", className);
        suite.setAttribute("tests", Integer.toString(cases.size()));
        suite.setAttribute("failures", Integer.toString(failed));
        suite.setAttribute("errors", Integer.toString(errors));
        suite.setAttribute("skipped", Integer.toString(skipped));
        suite.setAttribute("time", String.format(Locale.ROOT, "%.3f", time));
        write(doc, dir.resolve("TEST-" + className.replaceAll("[^A-Za-z0-9_.$-]", "_") + ".xml"));
        return new Counts(cases.size(), failed, errors, skipped);
    }

    /** Failsafe's summary format (read by {@code failsafe:verify}). */
    static void writeSummary(Path file, Counts total) throws IOException {
        String result = total.green() ? "" : " result=\"255\"";
        Files.writeString(file, """
                <?xml version="1.0" encoding="UTF-8"?>
                <failsafe-summary%s timeout="false">
                    <completed>%d</completed>
                    <errors>%d</errors>
                    <failures>%d</failures>
                    <skipped>%d</skipped>
                </failsafe-summary>
                """.formatted(result, total.tests(), total.errors(), total.failures(), total.skipped()),
                StandardCharsets.UTF_8);
    }

    private static Element firstChild(Element parent, String... names) {
        for (Node child = parent.getFirstChild(); child != null; child = child.getNextSibling()) {
            if (child instanceof Element element && List.of(names).contains(element.getTagName())) {
                return element;
            }
        }
        return null;
    }

    private static double parseTime(String time) {
        try {
            return time.isBlank() ? 0 : Double.parseDouble(time.replace(",", ""));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static Document newDocument() {
        try {
            return DocumentBuilderFactory.newInstance().newDocumentBuilder().newDocument();
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Document parse(Path file) throws IOException {
        try {
            var factory = DocumentBuilderFactory.newInstance();
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            return factory.newDocumentBuilder().parse(file.toFile());
        } catch (ParserConfigurationException | SAXException e) {
            throw new IOException("unreadable JUnit report " + file + ": " + e.getMessage(), e);
        }
    }

    private static void write(Document doc, Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            var transformer = TransformerFactory.newInstance().newTransformer();
            transformer.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
            transformer.setOutputProperty(OutputKeys.INDENT, "no");
            transformer.transform(new DOMSource(doc), new StreamResult(out));
        } catch (TransformerException e) {
            throw new IOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
